// A FIFO (a deque's front/back subset) that owns no memory while empty.
//
// An association holds several queues that are empty most of its life (control
// chunks, retransmission entries, stream queues, ready messages); thousands of idle
// associations should cost little, so an empty queue frees its memory. It is a ring
// buffer in ONE allocation rather than a std::deque, which costs three (the deque,
// its map and a 512-byte node) every time it is refilled: with 10,000 associations
// taking turns, every turn fills and drains several queues, and that allocator
// traffic was ~10 % of a sender's CPU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>

namespace sctpp {

template <class T>
class LazyDeque {
  template <class Q, class V>
  class Iter {
   public:
    Iter(Q* q, size_t i) : q_(q), i_(i) {}
    V& operator*() const { return (*q_)[i_]; }
    V* operator->() const { return &(*q_)[i_]; }
    Iter& operator++() {
      ++i_;
      return *this;
    }
    friend bool operator==(const Iter& a, const Iter& b) { return a.i_ == b.i_; }

   private:
    Q* q_;
    size_t i_;
  };

 public:
  using iterator = Iter<LazyDeque, T>;
  using const_iterator = Iter<const LazyDeque, const T>;

  LazyDeque() = default;
  ~LazyDeque() { clear(); }
  LazyDeque(LazyDeque&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  LazyDeque& operator=(LazyDeque&& o) noexcept {
    if (this != &o) {
      clear();
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  LazyDeque(const LazyDeque&) = delete;
  LazyDeque& operator=(const LazyDeque&) = delete;

  bool empty() const { return h_ == nullptr; }
  size_t size() const { return h_ ? h_->size : 0; }
  T& operator[](size_t i) { return elems()[slot(i)]; }
  const T& operator[](size_t i) const { return elems()[slot(i)]; }
  T& front() { return elems()[h_->head]; }
  const T& front() const { return elems()[h_->head]; }
  T& back() { return (*this)[h_->size - 1]; }
  const T& back() const { return (*this)[h_->size - 1]; }

  void push_back(T v) { emplace_back(std::move(v)); }
  template <class... A>
  T& emplace_back(A&&... a) {
    if (size() == capacity()) grow();
    T* p = ::new (static_cast<void*>(elems() + slot(h_->size))) T(std::forward<A>(a)...);
    ++h_->size;
    return *p;
  }
  void pop_front() {
    std::destroy_at(elems() + h_->head);
    h_->head = (h_->head + 1) & (h_->cap - 1);
    if (--h_->size == 0) release();  // give the memory back when drained
  }
  void pop_back() {
    std::destroy_at(&back());
    if (--h_->size == 0) release();
  }
  void clear() {
    if (!h_) return;
    for (size_t i = 0; i < h_->size; ++i) std::destroy_at(elems() + slot(i));
    release();
  }

  iterator begin() { return iterator(this, 0); }
  iterator end() { return iterator(this, size()); }
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, size()); }

 private:
  // The only member is a pointer (an association holds five of these): capacity,
  // front index and size live in the allocation, in front of the elements.
  struct Header {
    uint32_t cap;   // a power of two
    uint32_t head;  // index of the front element
    uint32_t size;  // never 0: an empty queue has no allocation
  };
  static constexpr size_t kFirstCapacity = 4;
  static constexpr size_t kOffset = (sizeof(Header) + alignof(T) - 1) / alignof(T) * alignof(T);
  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);

  size_t capacity() const { return h_ ? h_->cap : 0; }
  T* elems() const { return reinterpret_cast<T*>(reinterpret_cast<char*>(h_) + kOffset); }
  size_t slot(size_t i) const { return (h_->head + i) & (h_->cap - 1); }
  static Header* allocate(size_t cap) {
    auto* h = static_cast<Header*>(::operator new(kOffset + cap * sizeof(T)));
    h->cap = static_cast<uint32_t>(cap);
    h->head = 0;
    h->size = 0;
    return h;
  }
  void grow() {
    const size_t cap = h_ ? size_t{h_->cap} * 2 : kFirstCapacity;
    Header* h = allocate(cap);
    T* to = reinterpret_cast<T*>(reinterpret_cast<char*>(h) + kOffset);
    const size_t n = size();
    for (size_t i = 0; i < n; ++i) {
      T* old = elems() + slot(i);
      ::new (static_cast<void*>(to + i)) T(std::move(*old));
      std::destroy_at(old);
    }
    h->size = static_cast<uint32_t>(n);
    if (h_) ::operator delete(h_);
    h_ = h;
  }
  void release() {
    ::operator delete(h_);
    h_ = nullptr;
  }

  Header* h_ = nullptr;
};

}  // namespace sctpp
