// The Rust web server from the seed (autonomous-rust-unikernels): std::net::TcpListener on
// 0.0.0.0, a thread per connection, each answered "Hello world" and the address of a stack
// variable (which shows the memory layout). Unlike the seed it does not halt the CPU after
// answering (`cli; hlt` comes with a later issue), and it sends Content-Length and closes,
// so that clients know where the answer ends. `rust_web [PORT [ADDRESS]]`: default 8080
// (0 picks one) on 0.0.0.0; prints "rust_web listening on PORT".
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

fn handle_read(mut stream: &TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    let mut len = 0;
    // Read up to the end of the request's headers (the seed reads once; a request may arrive
    // in pieces).
    while len < buf.len() {
        match stream.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => {
                len += n;
                if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            Err(e) => {
                println!("Unable to read stream: {}", e);
                return false;
            }
        }
    }
    let request = String::from_utf8_lossy(&buf[..len]);
    println!("{}", request.lines().next().unwrap_or(""));
    len > 0
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
}

fn handle_client(stream: TcpStream) {
    if handle_read(&stream) {
        handle_write(stream);
    }
}

fn main() {
    let port: u16 = match std::env::args().nth(1) {
        Some(arg) => arg.parse().expect("rust_web [PORT [ADDRESS]]"),
        None => 8080,
    };
    let address = std::env::args().nth(2).unwrap_or_else(|| "0.0.0.0".to_string());
    let listener = TcpListener::bind((address.as_str(), port)).unwrap();
    let port = listener.local_addr().unwrap().port();
    println!("rust_web listening on {}", port);

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
