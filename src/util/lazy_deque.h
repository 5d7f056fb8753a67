// A std::deque that owns no memory while empty. libstdc++'s deque allocates about
// 600 bytes as soon as it is constructed; an association holds several queues that
// are empty most of its life, and thousands of idle associations should cost little.
#pragma once

#include <deque>
#include <memory>
#include <utility>

namespace sctpp {

template <class T>
class LazyDeque {
  using Deque = std::deque<T>;

 public:
  using iterator = typename Deque::iterator;
  using const_iterator = typename Deque::const_iterator;

  LazyDeque() = default;
  LazyDeque(LazyDeque&&) noexcept = default;
  LazyDeque& operator=(LazyDeque&&) noexcept = default;

  bool empty() const { return !d_ || d_->empty(); }
  size_t size() const { return d_ ? d_->size() : 0; }
  T& front() { return d_->front(); }
  const T& front() const { return d_->front(); }
  T& back() { return d_->back(); }
  const T& back() const { return d_->back(); }
  T& operator[](size_t i) { return (*d_)[i]; }
  const T& operator[](size_t i) const { return (*d_)[i]; }

  void push_back(T v) { get().push_back(std::move(v)); }
  template <class... A>
  T& emplace_back(A&&... a) {
    return get().emplace_back(std::forward<A>(a)...);
  }
  void pop_front() {
    d_->pop_front();
    if (d_->empty()) d_.reset();  // give the memory back when drained
  }
  void pop_back() {
    d_->pop_back();
    if (d_->empty()) d_.reset();
  }
  void clear() { d_.reset(); }

  iterator begin() { return d_ ? d_->begin() : none().begin(); }
  iterator end() { return d_ ? d_->end() : none().end(); }
  const_iterator begin() const { return d_ ? d_->cbegin() : none().cbegin(); }
  const_iterator end() const { return d_ ? d_->cend() : none().cend(); }

 private:
  Deque& get() {
    if (!d_) d_ = std::make_unique<Deque>();
    return *d_;
  }
  // Iterators of an empty deque for the empty case (never modified).
  static Deque& none() {
    static Deque empty;
    return empty;
  }
  std::unique_ptr<Deque> d_;
};

}  // namespace sctpp
