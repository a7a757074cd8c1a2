// The Rust web server from the blog post Phoenix started from (autonomous-rust-unikernels),
// modernized only as today's Rust and HTTP clients need:
// - `std::arch::asm!` replaces the old `#![feature(asm)]` (stable Rust, no nightly);
// - the answer carries Content-Length and the stream is shut down before the halt, so a client
//   knows the answer is complete although the VM never closes the connection itself;
// - it listens on 8080 (unprivileged on the host side of `phx run -p 8080`);
// - the answer shows the address of a stack variable: it changes on every boot.
// After each answer it executes `cli; hlt`. In ring 3 that is a general-protection fault: the
// kernel prints a crash report, the program dies of SIGSEGV, and with RebootOnExit the VM is
// reborn, with a fresh memory layout.
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;

fn handle_read(mut stream: &TcpStream) {
    let mut buf = [0u8; 4096];
    match stream.read(&mut buf) {
        Ok(n) => {
            let req_str = String::from_utf8_lossy(&buf[..n]);
            println!("{}", req_str.lines().next().unwrap_or(""));
        }
        Err(e) => println!("Unable to read stream: {}", e),
    }
}

fn handle_write(mut stream: TcpStream) {
    let x = 42;
    let body = format!("Hello world\r\nstack variable at {:p}\r\n", &x);
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{}",
        body.len(),
        body
    );
    match stream.write_all(response.as_bytes()) {
        Ok(_) => println!("Response sent"),
        Err(e) => println!("Failed sending response: {}", e),
    }
    let _ = stream.shutdown(Shutdown::Write);

    unsafe {
        std::arch::asm!("cli");
        std::arch::asm!("hlt");
    }
}

fn handle_client(stream: TcpStream) {
    handle_read(&stream);
    handle_write(stream);
}

fn main() {
    let listener = TcpListener::bind("0.0.0.0:8080").unwrap();
    println!("Listening for connections on port {}", 8080);

    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                thread::spawn(|| handle_client(stream));
            }
            Err(e) => {
                println!("Unable to connect: {}", e);
            }
        }
    }
}
