// The policies, the submission schema and the demo documents are embedded in
// the binary; rebuild when any of them changes.
fn main() {
    println!("cargo:rerun-if-changed=policies");
    println!("cargo:rerun-if-changed=schemas");
    println!("cargo:rerun-if-changed=demo");
}
