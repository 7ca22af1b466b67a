//! The floor of cold init for `make bench`: a process that does nothing but connect to the Runtime API and send
//! its first `GET …/invocation/next` (std only, no runtime, no TLS). What a handler takes above this is its own.
//! Built by `make bench` with `rustc -O`; not part of the crate.

use std::io::{Read, Write};

fn main() {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").expect("AWS_LAMBDA_RUNTIME_API");
    let mut s = std::net::TcpStream::connect(&api).expect("connect to the Runtime API");
    write!(s, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: {api}\r\n\r\n").expect("poll");
    let mut buf = [0u8; 1024];
    let _ = s.read(&mut buf);
}
