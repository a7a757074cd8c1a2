// A static Go program (CGO_ENABLED=0): the Go runtime starts its own threads (sysmon, GC
// workers, one M per P), parks goroutines on futexes, sleeps through its timers and
// preempts with signals. Checks time.Sleep never waking early, a channel ping-pong of 1000
// round trips between two goroutines, a sync.WaitGroup over 100 goroutines adding to a
// mutex-guarded total, and a forced collection. Prints "go ok" and exits 0, or "FAILED ..." and
// exits 1.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

const (
	roundTrips = 1000
	goroutines = 100
)

func check(ok bool, what string) {
	if !ok {
		fmt.Println("FAILED", what)
		os.Exit(1)
	}
}

func sleep() {
	start := time.Now()
	time.Sleep(30 * time.Millisecond)
	took := time.Since(start)
	check(took >= 30*time.Millisecond, fmt.Sprintf("time.Sleep(30ms) took %v: early", took))
	check(took <= 80*time.Millisecond, fmt.Sprintf("time.Sleep(30ms) took %v: over 50 ms late", took))
}

func pingPong() {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(pong)
	}()
	for i := 0; i < roundTrips; i++ {
		ping <- 2 * i
		check(<-pong == 2*i+1, "pong answered")
	}
	close(ping)
	_, open := <-pong
	check(!open, "pong closed its channel")
}

func waitGroup() {
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for g := 1; g <= goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			runtime.Gosched()
			mu.Lock()
			total += g
			mu.Unlock()
		}(g)
	}
	wg.Wait()
	check(total == goroutines*(goroutines+1)/2, fmt.Sprintf("WaitGroup total %d", total))
}

func main() {
	fmt.Printf("GOMAXPROCS %d NumCPU %d\n", runtime.GOMAXPROCS(0), runtime.NumCPU())
	sleep()
	pingPong()
	waitGroup()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	runtime.GC() // stops the world: every thread must be reached
	runtime.ReadMemStats(&after)
	check(after.NumGC > before.NumGC, "runtime.GC ran a collection")
	fmt.Println("go ok")
}
