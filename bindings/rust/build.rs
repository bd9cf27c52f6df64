//! The native library is found and linked by `responses-ws-sys` (see its build.rs). Link
//! arguments do not reach dependents, so the rpath that lets this crate's own tests and
//! examples run from a build tree without LD_LIBRARY_PATH is added here, from the directory
//! the sys crate reports (`DEP_RESPONSESWS_RPATH`, set only for a non-system directory).

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_RESPONSESWS_RPATH");
    if let Ok(dir) = std::env::var("DEP_RESPONSESWS_RPATH") {
        if !dir.is_empty() {
            println!("cargo:rustc-link-arg-tests=-Wl,-rpath,{dir}");
            println!("cargo:rustc-link-arg-examples=-Wl,-rpath,{dir}");
        }
    }
}
