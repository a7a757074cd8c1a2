// Built with a plain `cargo build` (std, dynamically linked against glibc): what a Rust
// program's threads lean on. 8 spawned threads returning results through join, an mpsc
// ping-pong of 1000 round trips, an Arc<Mutex> counter under contention, a Condvar
// handshake, thread names, thread-locals and std::thread::sleep never waking early. Prints
// "rust threads ok" and exits 0, or "FAILED ..." and exits 1.
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const THREADS: u64 = 8;
const ROUND_TRIPS: u64 = 1000;
const INCREMENTS: u64 = 1000;

fn check(ok: bool, what: &str) {
    if !ok {
        println!("FAILED {}", what);
        std::process::exit(1);
    }
}

thread_local! {
    static PER_THREAD: Cell<u64> = const { Cell::new(0) };
}

// Each thread sums its own slice of 0..8M, keeping a thread-local of its own on the way.
fn spawn_and_join() {
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            thread::Builder::new()
                .name(format!("worker-{}", t))
                .spawn(move || {
                    let per = (8u64 << 20) / THREADS;
                    PER_THREAD.with(|c| c.set(t + 1));
                    let sum: u64 = (t * per..(t + 1) * per).sum();
                    let name = thread::current().name().map(str::to_owned);
                    (sum, PER_THREAD.with(|c| c.get()), name)
                })
                .expect("spawn")
        })
        .collect();
    let mut total = 0;
    for (t, handle) in handles.into_iter().enumerate() {
        let (sum, local, name) = handle.join().expect("join");
        check(local == t as u64 + 1, "thread-local kept per thread");
        check(
            name.as_deref() == Some(format!("worker-{}", t).as_str()),
            "thread name",
        );
        total += sum;
    }
    let n = 8u64 << 20;
    check(total == n * (n - 1) / 2, "sum from 8 threads");
    check(
        PER_THREAD.with(|c| c.get()) == 0,
        "main thread's thread-local untouched",
    );
}

fn ping_pong() {
    let (to_pong, pong_rx) = mpsc::channel::<u64>();
    let (to_ping, ping_rx) = mpsc::sync_channel::<u64>(0); // rendezvous: every send blocks
    let pong = thread::spawn(move || {
        for value in pong_rx {
            to_ping.send(value + 1).expect("pong send");
        }
    });
    for i in 0..ROUND_TRIPS {
        to_pong.send(2 * i).expect("ping send");
        check(ping_rx.recv() == Ok(2 * i + 1), "pong answered");
    }
    drop(to_pong); // ends the pong thread's loop
    pong.join().expect("pong join");
    check(
        ping_rx.recv().is_err(),
        "channel disconnected after pong exits",
    );
}

fn contended_mutex() {
    let counter = Arc::new(Mutex::new(0u64));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let counter = Arc::clone(&counter);
            thread::spawn(move || {
                for _ in 0..INCREMENTS {
                    *counter.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("join");
    }
    check(
        *counter.lock().unwrap() == THREADS * INCREMENTS,
        "mutex-guarded count",
    );
    check(
        Arc::strong_count(&counter) == 1,
        "the threads dropped their Arcs",
    );
}

// The waiter goes to sleep on the Condvar before the main thread sets the flag: it counts
// itself as waiting under the lock, so the notify cannot be missed.
fn condvar() {
    let state = Arc::new((Mutex::new(false), Condvar::new()));
    let waiting = Arc::new(AtomicUsize::new(0));
    let waiter = {
        let state = Arc::clone(&state);
        let waiting = Arc::clone(&waiting);
        thread::spawn(move || {
            let (lock, ready) = &*state;
            let mut flag = lock.lock().unwrap();
            waiting.store(1, Ordering::SeqCst);
            while !*flag {
                flag = ready.wait(flag).unwrap();
            }
        })
    };
    while waiting.load(Ordering::SeqCst) == 0 {
        thread::yield_now();
    }
    let (lock, ready) = &*state;
    *lock.lock().unwrap() = true;
    ready.notify_all();
    waiter.join().expect("waiter join");

    let start = Instant::now();
    let (flag, timeout) = ready
        .wait_timeout(lock.lock().unwrap(), Duration::from_millis(20))
        .unwrap();
    check(
        timeout.timed_out(),
        "wait_timeout with nobody notifying times out",
    );
    check(
        start.elapsed() >= Duration::from_millis(20),
        "wait_timeout is never early",
    );
    check(*flag, "the lock is held again after the wait");
}

fn sleep() {
    let start = Instant::now();
    thread::sleep(Duration::from_millis(30));
    let took = start.elapsed();
    check(
        took >= Duration::from_millis(30),
        "thread::sleep is never early",
    );
    check(
        took <= Duration::from_millis(80),
        "thread::sleep at most 50 ms late",
    );
}

fn main() {
    spawn_and_join();
    ping_pong();
    contended_mutex();
    condvar();
    sleep();
    println!("rust threads ok");
}
