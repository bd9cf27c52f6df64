//! Finds libresponsesws and tells rustc how to link it.
//!
//! Order: `RESPONSESWS_LIB_DIR` (a directory holding libresponsesws.so), then
//! `pkg-config responsesws` (honours PKG_CONFIG_PATH), then the system linker path. A
//! non-system directory is also embedded as an rpath so this crate's tests and examples run
//! without LD_LIBRARY_PATH.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{self, Command};

const LIB_FILE: &str = "libresponsesws.so";

fn main() {
    for var in ["RESPONSESWS_LIB_DIR", "PKG_CONFIG", "PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR", "PKG_CONFIG_SYSROOT_DIR", "LIBRARY_PATH"]
    {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=build.rs");

    let dir = match env::var_os("RESPONSESWS_LIB_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => Some(from_env_dir(PathBuf::from(dir))),
        None => match from_pkg_config() {
            Ok(dir) => dir,
            Err(pkg_config_problem) => match from_system_path() {
                Some(()) => None,
                None => fail(&pkg_config_problem),
            },
        },
    };

    if let Some(dir) = dir {
        let dir = dir.display();
        println!("cargo:rustc-link-search=native={dir}");
        if !is_system_dir(Path::new(&dir.to_string())) {
            // The loader does not search a staged or build directory by itself. Link args do not
            // reach dependent crates: they get the directory as DEP_RESPONSESWS_RPATH instead
            // (the safe crate's build.rs adds it to its tests and examples).
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
            println!("cargo:rpath={dir}");
        }
        println!("cargo:lib_dir={dir}");
    }
    println!("cargo:rustc-link-lib=dylib=responsesws");
}

/// RESPONSESWS_LIB_DIR was set: it must be right, a silent fallback would link something else.
fn from_env_dir(dir: PathBuf) -> PathBuf {
    if !dir.join(LIB_FILE).exists() {
        eprintln!(
            "error: RESPONSESWS_LIB_DIR={} does not contain {LIB_FILE}.\n\
             Point it at the directory holding libresponsesws.so (and libresponsesws.so.0), \
             e.g. <repo>/.build/release, or unset it to use pkg-config.",
            dir.display()
        );
        process::exit(1);
    }
    let dir = dir.canonicalize().unwrap_or(dir);
    println!("cargo:rerun-if-changed={}", dir.join(LIB_FILE).display());
    dir
}

/// Ok(Some(dir)) for a -L directory, Ok(None) when pkg-config found the library on the
/// default path, Err(why) when pkg-config is missing or does not know responsesws.
fn from_pkg_config() -> Result<Option<PathBuf>, String> {
    let output = Command::new(env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".into()))
        .args(["--libs-only-L", "--libs", "responsesws"])
        .output()
        .map_err(|e| format!("pkg-config could not be run ({e})"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("pkg-config does not know responsesws: {}", stderr.trim()));
    }
    let flags = String::from_utf8_lossy(&output.stdout).into_owned();
    if !flags.split_whitespace().any(|f| f == "-lresponsesws") {
        return Err(format!("pkg-config printed no -lresponsesws: {}", flags.trim()));
    }
    let dir = flags
        .split_whitespace()
        .filter_map(|f| f.strip_prefix("-L"))
        .map(PathBuf::from)
        .find(|d| d.join(LIB_FILE).exists());
    Ok(dir)
}

/// Some(()) when libresponsesws.so is in a directory the linker searches by default.
fn from_system_path() -> Option<()> {
    let mut dirs: Vec<PathBuf> =
        env::var_os("LIBRARY_PATH").map(|v| env::split_paths(&v).collect()).unwrap_or_default();
    dirs.extend(system_dirs());
    dirs.iter().any(|d| d.join(LIB_FILE).exists()).then_some(())
}

fn system_dirs() -> Vec<PathBuf> {
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let multiarch = format!("{arch}-linux-gnu");
    let mut dirs = Vec::new();
    for prefix in ["/usr/local/lib", "/usr/lib", "/lib", "/usr/lib64", "/lib64"] {
        dirs.push(Path::new(prefix).join(&multiarch));
        dirs.push(PathBuf::from(prefix));
    }
    dirs
}

fn is_system_dir(dir: &Path) -> bool {
    system_dirs().iter().any(|d| d == dir)
}

fn fail(pkg_config_problem: &str) -> ! {
    eprintln!(
        "error: libresponsesws.so was not found.\n\
         Tell the build where it is, either way:\n\
         \x20 1. RESPONSESWS_LIB_DIR=/path/to/dir (a directory holding libresponsesws.so), e.g.\n\
         \x20    RESPONSESWS_LIB_DIR=<repo>/.build/release cargo build\n\
         \x20 2. pkg-config: install libresponsesws-dev, or set PKG_CONFIG_PATH to the directory\n\
         \x20    holding responsesws.pc.\n\
         ({pkg_config_problem}; not in the system library directories either.)"
    );
    process::exit(1);
}
