#include "projections/byte_codec.h"

#include <algorithm>
#include <string>
#include <system_error>

#include "core/log.h"

namespace keyledger {

ArrivingBytes::ArrivingBytes(size_t capacity, size_t window) : capacity_(capacity) {
  if (capacity > window) {
    try {
      ring_.emplace(window);
      data_ = ring_->data();
      window_ = ring_->size();
      return;
    } catch (const std::system_error& e) {
      // A sandbox without memfd_create: slower and larger, but the checkpoint still loads.
      log::Warn(std::string("reading a checkpoint into one buffer of its size: no window (") + e.what() + ")");
    }
  }
  window_ = std::max<size_t>(capacity, 1);
  whole_ = std::make_unique_for_overwrite<char[]>(window_);  // every byte read is written first
  data_ = whole_.get();
}

}  // namespace keyledger
