// Built with a plain `cargo build` (std, dynamically linked against glibc): reads the file
// config.json's Files shipped, lists the directory its Dirs shipped, and checks argv and env.
use std::env;
use std::fs;

fn main() {
    let args: Vec<String> = env::args().collect();
    println!("args: {:?}", args);
    println!("GREETING={}", env::var("GREETING").unwrap_or_else(|_| "(unset)".into()));
    let text = match fs::read_to_string("data/message.txt") {
        Ok(text) => text,
        Err(error) => {
            eprintln!("data/message.txt: {}", error);
            std::process::exit(1);
        }
    };
    println!("message: {}", text.trim_end());
    let mut names: Vec<String> = match fs::read_dir("assets") {
        Ok(entries) => entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect(),
        Err(error) => {
            eprintln!("assets: {}", error);
            std::process::exit(1);
        }
    };
    names.sort();
    println!("assets: {}", names.join(","));
    let nested = fs::read_to_string("assets/deeper/inner.txt").unwrap_or_else(|e| format!("error: {}", e));
    println!("inner: {}", nested.trim_end());
    println!("cwd: {}", env::current_dir().map(|p| p.display().to_string()).unwrap_or_default());
}
