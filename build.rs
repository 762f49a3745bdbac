// The policies, the submission schema, the demo documents and the migrations
// are embedded in the binary; rebuild when any of them changes.
fn main() {
    println!("cargo:rerun-if-changed=policies");
    println!("cargo:rerun-if-changed=schemas");
    println!("cargo:rerun-if-changed=demo");
    println!("cargo:rerun-if-changed=migrations");
}
