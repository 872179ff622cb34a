#include "alerts/signals.h"

namespace cowwatch::alerts {

SignalValues signals_from_counters(const cw_counters& counters) {
  const auto& c = counters.c;
  SignalValues v{};
  v[static_cast<size_t>(Signal::kPinnedCopies)] = c[copy_counter(CW_REASON_PINNED)];
  v[static_cast<size_t>(Signal::kForkPinnedCopies)] = c[CW_C_FORK_PINNED_COPIES];
  v[static_cast<size_t>(Signal::kLongtermPinForks)] = c[CW_C_FORK_LONGTERM_PINS];
  v[static_cast<size_t>(Signal::kGupUnshares)] = c[copy_counter(CW_REASON_UNSHARE)] + c[CW_C_UNSHARE_NOOP];
  v[static_cast<size_t>(Signal::kPinnedSwap)] = c[CW_C_PINNED_SWAP_SKIP] + c[CW_C_SWAP_ADD_PINNED];
  v[static_cast<size_t>(Signal::kExtraRefCopies)] = c[copy_counter(CW_REASON_EXTRA_REF)];
  uint64_t copies = 0;
  for (int reason = 0; reason < CW_REASON_COUNT; ++reason) copies += c[copy_counter(reason)];
  v[static_cast<size_t>(Signal::kCopies)] = copies;
  return v;
}

std::optional<SignalHit> signal_from_event(const cw_event& event) {
  switch (event.type) {
    case CW_EV_FAULT:
      if (event.decision == CW_DECISION_COPY && event.reason == CW_REASON_PINNED) {
        return SignalHit{Signal::kPinnedCopies, 1};
      }
      return std::nullopt;
    case CW_EV_FORK:
      // address: pages this fork copied eagerly because they were maybe pinned; aux1: the
      // parent's pinned_vm pages (flagged only where those copies cannot be observed)
      if (event.address > 0) return SignalHit{Signal::kForkPinnedCopies, event.address};
      if (event.aux1 > 0) return SignalHit{Signal::kLongtermPinForks, 1};
      return std::nullopt;
    case CW_EV_PINNED_SWAP_SKIP:
      return SignalHit{Signal::kPinnedSwap, 1};
    case CW_EV_SWAP_ADD:
      if (event.page_flags & CW_PF_MAYBE_PINNED) return SignalHit{Signal::kPinnedSwap, 1};
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace cowwatch::alerts
