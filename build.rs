// The default fact base is embedded with include_dir, which cannot tell
// cargo about the files it reads on stable Rust; this makes an edit under
// knowledge/ rebuild the binary.
fn main() {
    println!("cargo:rerun-if-changed=knowledge");
}
