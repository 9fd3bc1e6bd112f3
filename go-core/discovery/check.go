package discovery

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// checker runs liveness checks on livenessWorkers goroutines from a bounded queue, within a
// dial budget (dialsPerSecond): however many records arrive, dials and goroutines stay bounded.
type checker struct {
	n      *Node
	jobs   chan *stored
	budget *rate.Limiter
	done   chan struct{}
	wg     sync.WaitGroup
}

func newChecker(n *Node) *checker {
	c := &checker{n: n, jobs: make(chan *stored, livenessQueue), budget: rate.NewLimiter(dialsPerSecond, dialBurst), done: make(chan struct{})}
	for range livenessWorkers {
		c.wg.Add(1)
		go c.work()
	}
	return c
}

// allowance is how many more checks the dial budget affords now, the queued ones deducted.
func (c *checker) allowance() int { return int(c.budget.Tokens()) - len(c.jobs) }

// queue asks for a check of s; false when the queue is full (asked again next round).
func (c *checker) queue(s *stored) bool {
	select {
	case c.jobs <- s:
		return true
	default:
		return false
	}
}

func (c *checker) work() {
	defer c.wg.Done()
	for {
		select {
		case <-c.done:
			return
		case s := <-c.jobs:
			if !c.budget.Allow() {
				c.n.mu.Lock()
				c.n.stats.DialsSkipped++
				s.checking = false
				if s.checked.IsZero() {
					c.n.uncheckLocked(s) // first check: again next round, not at the next scan
				}
				c.n.mu.Unlock()
				continue
			}
			c.n.count(&c.n.stats.Dials)
			alive := c.n.cfg.Liveness(s.rec)
			c.n.mu.Lock()
			s.alive, s.checked, s.checking = alive, time.Now(), false
			if alive {
				s.failures = 0
			} else {
				s.failures++
			}
			c.n.mu.Unlock()
		}
	}
}

func (c *checker) stop() {
	close(c.done)
	c.wg.Wait()
}
