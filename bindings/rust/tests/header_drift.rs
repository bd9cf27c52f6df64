//! The binding cannot drift from `include/responses_ws.h` silently: every function, constant
//! and struct field of the header is checked against `responses-ws-sys/src/lib.rs`, and struct sizes against
//! what the loaded library reports.

mod common;

use std::collections::BTreeMap;
use std::ffi::c_int;
use std::mem::{size_of, MaybeUninit};
use std::path::PathBuf;

use common::Sim;
use responses_ws::sys;

fn read(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn header() -> String {
    // Comments out, so commented-out text never counts.
    let text = read("../../include/responses_ws.h");
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = rest[start..].find("*/").map_or("", |end| &rest[start + end + 2..]);
    }
    out.push_str(rest);
    out
}

/// Splits a parameter list at top-level commas; `void` or nothing is no parameter.
fn params(list: &str) -> Vec<String> {
    let list = list.trim();
    if list.is_empty() || list == "void" {
        return Vec::new();
    }
    // (A trailing comma, as rustfmt writes multi-line lists, adds no parameter.)
    list.split(',').map(|p| p.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|p| !p.is_empty()).collect()
}

/// name → parameter count of every `RWS_EXTERN` function of the header.
fn header_functions() -> BTreeMap<String, usize> {
    let header = header();
    let mut functions = BTreeMap::new();
    // Declarations start a line with RWS_EXTERN (the #define lines do not).
    for decl in header.split("\nRWS_EXTERN ").skip(1) {
        let decl = &decl[..decl.find(';').expect("a declaration ends with ;")];
        let open = decl.find('(').unwrap();
        let name = decl[..open].rsplit(|c: char| c.is_whitespace() || c == '*').next().unwrap();
        functions.insert(name.to_owned(), params(&decl[open + 1..decl.rfind(')').unwrap()]).len());
    }
    functions
}

/// name → parameter count of every `pub fn` in sys.rs's extern block.
fn sys_functions() -> BTreeMap<String, usize> {
    let sys = read("responses-ws-sys/src/lib.rs");
    let block = &sys[sys.find("extern \"C\" {").expect("an extern block")..];
    let mut functions = BTreeMap::new();
    for decl in block.split("pub fn ").skip(1) {
        let open = decl.find('(').unwrap();
        let close = decl.find(')').unwrap();
        functions.insert(decl[..open].to_owned(), params(&decl[open + 1..close]).len());
    }
    functions
}

#[test]
fn every_header_function_is_declared_with_its_arity() {
    let header = header_functions();
    assert!(header.len() >= 20, "the header parser found too few functions: {header:?}");
    assert_eq!(sys_functions(), header, "responses-ws-sys/src/lib.rs and include/responses_ws.h declare different functions");
}

/// Every `NAME = value` of the header's enums and every `#define NAME (1u << n)`.
fn header_constants() -> BTreeMap<String, i64> {
    let header = header();
    let mut constants = BTreeMap::new();
    for block in header.split("enum {").skip(1) {
        for entry in block[..block.find('}').unwrap()].split(',') {
            if let Some((name, value)) = entry.split_once('=') {
                constants.insert(name.trim().to_owned(), value.trim().parse().expect("an integer enum value"));
            }
        }
    }
    for line in header.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let ["#define", name, "(1u", "<<", shift] = words[..] {
            constants.insert(name.to_owned(), 1 << shift.trim_end_matches(')').parse::<i64>().unwrap());
        }
    }
    constants
}

#[test]
fn every_header_constant_matches() {
    let header = header_constants();
    let mut ours: BTreeMap<String, i64> = BTreeMap::new();
    let ints = sys::STATUS_CONSTANTS.iter().chain(sys::ENUM_CONSTANTS).map(|(n, v)| (*n, i64::from(*v)));
    let bits = sys::FEATURE_CONSTANTS.iter().chain(sys::FLAG_CONSTANTS).map(|(n, v)| (*n, i64::from(*v)));
    for (name, value) in ints.chain(bits) {
        assert!(ours.insert(name.to_owned(), value).is_none(), "{name} declared twice");
    }
    assert!(header.keys().filter(|k| k.starts_with("RWS_E_")).count() >= 30, "parser found too few codes");
    assert_eq!(ours, header, "constants of responses-ws-sys/src/lib.rs and include/responses_ws.h differ");
}

/// Every `typedef int NAME;` of the header (the enums' type names) is a `pub type NAME = c_int;`.
#[test]
fn every_header_typedef_is_declared() {
    let header: Vec<String> = header()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("typedef int ").and_then(|r| r.strip_suffix(';')))
        .filter(|name| name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) // not function pointers
        .map(str::to_owned)
        .collect();
    assert!(header.len() >= 6, "the header parser found too few typedefs: {header:?}");
    let sys = read("responses-ws-sys/src/lib.rs");
    for name in header {
        assert!(sys.contains(&format!("pub type {name} = c_int;")), "{name} is not declared in responses-ws-sys");
    }
}

#[test]
fn every_status_code_has_its_own_error_kind_and_a_library_name() {
    for &(name, code) in sys::STATUS_CONSTANTS.iter().filter(|(n, _)| n.starts_with("RWS_E_")) {
        let kind = responses_ws::ErrorKind::from_code(code);
        assert_ne!(kind, responses_ws::ErrorKind::Unknown, "{name} has no ErrorKind");
        assert_eq!(kind.code(), Some(code), "{name} does not round-trip");
        assert_ne!(responses_ws::strerror(code), responses_ws::strerror(-9999), "{name} unnamed by the library");
    }
    assert_eq!(responses_ws::ErrorKind::from_code(-9999), responses_ws::ErrorKind::Unknown);
}

/// C type → the Rust spelling sys.rs must use for it.
fn rust_type(c: &str) -> String {
    match c {
        "size_t" => "usize".into(),
        "int" => "c_int".into(),
        "uint32_t" => "u32".into(),
        "uint64_t" => "u64".into(),
        "int64_t" => "i64".into(),
        "int32_t" => "i32".into(),
        "const char *" => "*const c_char".into(),
        "const char *const *" => "*const *const c_char".into(),
        "void *" => "*mut c_void".into(),
        "rws_event_cb" => "Option<rws_event_cb>".into(),
        "rws_log_fn" => "Option<rws_log_fn>".into(),
        other => other.into(),
    }
}

fn header_structs() -> BTreeMap<String, Vec<(String, String)>> {
    let header = header();
    let mut structs = BTreeMap::new();
    for block in header.split("typedef struct ").skip(1) {
        let Some((name, rest)) = block.split_once(" {") else { continue };
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue; // an opaque handle: `typedef struct rws_turn rws_turn;`
        }
        let body = &rest[..rest.find('}').unwrap()];
        let fields = body
            .split(';')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(|f| {
                let f = f.split_whitespace().collect::<Vec<_>>().join(" ");
                let split = f.rfind([' ', '*']).unwrap();
                let (ty, name) = f.split_at(split + 1);
                (name.to_owned(), rust_type(ty.trim_end()))
            })
            .collect();
        structs.insert(name.trim().to_owned(), fields);
    }
    structs
}

fn sys_structs() -> BTreeMap<String, Vec<(String, String)>> {
    let sys = read("responses-ws-sys/src/lib.rs");
    let mut structs = BTreeMap::new();
    for block in sys.split("pub struct ").skip(1) {
        let (name, rest) = block.split_once(" {").unwrap();
        let body = &rest[..rest.find('}').unwrap()];
        let fields: Vec<(String, String)> = body
            .lines()
            .map(str::trim)
            .filter_map(|l| l.strip_prefix("pub "))
            .map(|l| {
                let (name, ty) = l.trim_end_matches(',').split_once(": ").unwrap();
                (name.trim_start_matches("r#").to_owned(), ty.to_owned())
            })
            .collect();
        if !fields.is_empty() {
            structs.insert(name.to_owned(), fields);
        }
    }
    structs
}

#[test]
fn every_struct_mirrors_the_header_field_by_field() {
    let header = header_structs();
    assert_eq!(header.len(), 9, "the parser found: {:?}", header.keys());
    assert_eq!(sys_structs(), header, "#[repr(C)] structs of responses-ws-sys/src/lib.rs differ from the header");
}

#[test]
fn options_struct_sizes_match_the_library() {
    unsafe {
        let mut o = MaybeUninit::<sys::rws_client_options>::zeroed();
        sys::rws_client_options_init(o.as_mut_ptr());
        assert_eq!(o.assume_init().struct_size, size_of::<sys::rws_client_options>());
        let mut o = MaybeUninit::<sys::rws_session_options>::zeroed();
        sys::rws_session_options_init(o.as_mut_ptr());
        assert_eq!(o.assume_init().struct_size, size_of::<sys::rws_session_options>());
        let mut o = MaybeUninit::<sys::rws_turn_options>::zeroed();
        sys::rws_turn_options_init(o.as_mut_ptr());
        assert_eq!(o.assume_init().struct_size, size_of::<sys::rws_turn_options>());
    }
    assert_eq!(responses_ws::version(), sys::RWS_VERSION_STRING);
    assert_eq!(responses_ws::version_number(), sys::RWS_VERSION_NUMBER);
    assert!(responses_ws::features().pull());
}

#[test]
fn event_result_and_stats_sizes_match_the_library() {
    let sim = Sim::start(&[]);
    let client = sim.client();
    let session = client.session().unwrap();
    let mut raw_client = std::ptr::null_mut();
    let base = std::ffi::CString::new(sim.base_url()).unwrap();
    let key = std::ffi::CString::new(common::API_KEY).unwrap();
    unsafe {
        let mut o = MaybeUninit::<sys::rws_client_options>::zeroed();
        sys::rws_client_options_init(o.as_mut_ptr());
        let mut o = o.assume_init();
        o.base_url = base.as_ptr();
        o.api_key = key.as_ptr();
        assert_eq!(sys::rws_client_new(&o, &mut raw_client), sys::RWS_OK);
        let mut raw_session = std::ptr::null_mut();
        assert_eq!(sys::rws_session_new(raw_client, std::ptr::null(), &mut raw_session), sys::RWS_OK);
        let request = r#"{"model":"gpt-5.6","input":"Hi","store":false}"#;
        let mut turn = std::ptr::null_mut();
        let rc = sys::rws_turn_start(raw_session, request.as_ptr().cast(), request.len(), std::ptr::null(), &mut turn);
        assert_eq!(rc, sys::RWS_OK);
        let mut event: *const sys::rws_event = std::ptr::null();
        let mut events = 0;
        while sys::rws_turn_next_event(turn, -1, &mut event) == sys::RWS_OK {
            assert_eq!((*event).struct_size, size_of::<sys::rws_event>(), "rws_event.struct_size");
            events += 1;
        }
        assert!(events > 0);
        let mut result: sys::rws_turn_result = std::mem::zeroed();
        assert_eq!(sys::rws_turn_get_result(turn, &mut result, size_of::<sys::rws_turn_result>()), sys::RWS_OK);
        assert_eq!(result.struct_size, size_of::<sys::rws_turn_result>(), "rws_turn_result.struct_size");
        let mut stats: sys::rws_stats = std::mem::zeroed();
        assert_eq!(sys::rws_session_stats(raw_session, &mut stats, size_of::<sys::rws_stats>()), sys::RWS_OK);
        assert_eq!(stats.struct_size, size_of::<sys::rws_stats>(), "rws_stats.struct_size");
        sys::rws_turn_free(turn);
        sys::rws_session_free(raw_session);
        sys::rws_client_free(raw_client);
    }
    let _: c_int = sys::RWS_OK;
    drop(session);
}
