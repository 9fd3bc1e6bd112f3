package transport

import "sync"

// pool runs handshake work (X25519, Ed25519, Noise) on a fixed number of goroutines with a
// bounded queue: a flood of handshakes costs at most the queue, never the read loop.
type pool struct {
	jobs chan func()
	done chan struct{}
	wg   sync.WaitGroup
}

func newPool(workers, queue int) *pool {
	p := &pool{jobs: make(chan func(), queue), done: make(chan struct{})}
	for range workers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for {
				select {
				case <-p.done:
					return
				case job := <-p.jobs:
					job()
				}
			}
		}()
	}
	return p
}

// submit queues job; false when the queue is full or the pool stopped (the job is dropped).
func (p *pool) submit(job func()) bool {
	select {
	case <-p.done:
		return false
	default:
	}
	select {
	case p.jobs <- job:
		return true
	default:
		return false
	}
}

// stop ends the workers; queued jobs are dropped.
func (p *pool) stop() {
	close(p.done)
	p.wg.Wait()
}
