package crypto

// windowBlocks × 64 bits is the replay bitmap (RFC 6479): a counter up to
// (windowBlocks-1)×64 = 1984 below the highest accepted one is still accepted once, so datagrams
// reordered by up to 1984 packets are not lost (the issue asks for at least 1024).
const (
	windowBlocks = 32
	// WindowSize is how far below the highest accepted counter a frame is still accepted.
	WindowSize = (windowBlocks - 1) * 64
)

// window is a sliding replay window over the frame counter.
type window struct {
	highest uint64 // highest counter accepted; meaningful once any is
	any     bool
	bits    [windowBlocks]uint64
}

// fresh reports whether counter is inside the window and not yet accepted.
func (w *window) fresh(counter uint64) bool {
	if !w.any || counter > w.highest {
		return true
	}
	if w.highest-counter >= WindowSize {
		return false
	}
	block := (counter / 64) % windowBlocks
	return w.bits[block]&(1<<(counter%64)) == 0
}

// accept marks counter as seen (after the frame authenticated), sliding the window forward.
func (w *window) accept(counter uint64) {
	if !w.any || counter > w.highest {
		var from uint64
		if w.any {
			from = w.highest/64 + 1
		} else {
			from = counter / 64
		}
		if to := counter / 64; from <= to {
			if to-from >= windowBlocks {
				from = to - windowBlocks + 1
			}
			for b := from; b <= to; b++ {
				w.bits[b%windowBlocks] = 0
			}
		}
		w.highest, w.any = counter, true
	}
	w.bits[(counter/64)%windowBlocks] |= 1 << (counter % 64)
}
