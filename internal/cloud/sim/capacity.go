package sim

import "sync"

// Capacity is how many more instances of a type a zone can launch. It is
// unlimited unless a fault scenario or `kdp sim capacity` sets a limit.
type Capacity struct {
	mu    sync.Mutex
	limit map[string]int // "type/zone" → instances still available
}

// NewCapacity returns unlimited capacity.
func NewCapacity() *Capacity { return &Capacity{limit: map[string]int{}} }

// Set limits a type in a zone to n more launches; a negative n removes the limit.
func (c *Capacity) Set(instanceType, zone string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n < 0 {
		delete(c.limit, instanceType+"/"+zone)
		return
	}
	c.limit[instanceType+"/"+zone] = n
}

// Take reserves one instance of a type in a zone, if there is capacity.
func (c *Capacity) Take(instanceType, zone string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, limited := c.limit[instanceType+"/"+zone]
	if !limited {
		return true
	}
	if n == 0 {
		return false
	}
	c.limit[instanceType+"/"+zone] = n - 1
	return true
}

// Return gives back an instance taken but not launched.
func (c *Capacity) Return(instanceType, zone string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, limited := c.limit[instanceType+"/"+zone]; limited {
		c.limit[instanceType+"/"+zone] = n + 1
	}
}
