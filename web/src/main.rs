//! facegan's web page. Trunk builds this crate to wasm (see `index.html` and `Trunk.toml`);
//! the browser code lives in the wasm-only modules, the URL and morph logic is plain Rust that
//! is also tested natively.

// Natively only their unit tests use them.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod morph;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod route;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod backend;
#[cfg(target_arch = "wasm32")]
mod dom;
#[cfg(target_arch = "wasm32")]
mod draw;
#[cfg(target_arch = "wasm32")]
mod engine;
#[cfg(target_arch = "wasm32")]
mod fetch;
#[cfg(target_arch = "wasm32")]
mod sketch_pad;
#[cfg(target_arch = "wasm32")]
mod steer;
#[cfg(target_arch = "wasm32")]
mod translator;

#[cfg(target_arch = "wasm32")]
fn main() {
    app::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "facegan-web runs in the browser: build it with `trunk build --release` (see README)"
    );
}
