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
  LazyDeque(LazyDeque&& o) noexcept { take(o); }
  LazyDeque& operator=(LazyDeque&& o) noexcept {
    if (this != &o) {
      clear();
      take(o);
    }
    return *this;
  }
  LazyDeque(const LazyDeque&) = delete;
  LazyDeque& operator=(const LazyDeque&) = delete;

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return buf_[slot(i)]; }
  const T& operator[](size_t i) const { return buf_[slot(i)]; }
  T& front() { return buf_[head_]; }
  const T& front() const { return buf_[head_]; }
  T& back() { return (*this)[size_ - 1]; }
  const T& back() const { return (*this)[size_ - 1]; }

  void push_back(T v) { emplace_back(std::move(v)); }
  template <class... A>
  T& emplace_back(A&&... a) {
    if (size_ == cap_) grow();
    T* p = ::new (static_cast<void*>(buf_ + slot(size_))) T(std::forward<A>(a)...);
    ++size_;
    return *p;
  }
  void pop_front() {
    std::destroy_at(buf_ + head_);
    head_ = (head_ + 1) & (cap_ - 1);
    if (--size_ == 0) release();  // give the memory back when drained
  }
  void pop_back() {
    std::destroy_at(&back());
    if (--size_ == 0) release();
  }
  void clear() {
    for (size_t i = 0; i < size_; ++i) std::destroy_at(buf_ + slot(i));
    size_ = 0;
    release();
  }

  iterator begin() { return iterator(this, 0); }
  iterator end() { return iterator(this, size_); }
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, size_); }

 private:
  static constexpr size_t kFirstCapacity = 4;  // a power of two, as every capacity

  size_t slot(size_t i) const { return (head_ + i) & (cap_ - 1); }
  void grow() {
    const size_t cap = cap_ ? cap_ * 2 : kFirstCapacity;
    T* buf = std::allocator<T>().allocate(cap);
    for (size_t i = 0; i < size_; ++i) {
      T* old = buf_ + slot(i);
      ::new (static_cast<void*>(buf + i)) T(std::move(*old));
      std::destroy_at(old);
    }
    if (buf_) std::allocator<T>().deallocate(buf_, cap_);
    buf_ = buf;
    cap_ = cap;
    head_ = 0;
  }
  void release() {
    if (buf_) std::allocator<T>().deallocate(buf_, cap_);
    buf_ = nullptr;
    cap_ = 0;
    head_ = 0;
  }
  void take(LazyDeque& o) {
    buf_ = std::exchange(o.buf_, nullptr);
    cap_ = std::exchange(o.cap_, 0);
    head_ = std::exchange(o.head_, 0);
    size_ = std::exchange(o.size_, 0);
  }

  T* buf_ = nullptr;
  size_t cap_ = 0;   // 0 or a power of two
  size_t head_ = 0;  // index of the front element in buf_
  size_t size_ = 0;
};

}  // namespace sctpp
