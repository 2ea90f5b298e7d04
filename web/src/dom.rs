//! Small typed accessors for the page's elements, and the canvas and download plumbing.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{
    CanvasRenderingContext2d, Document, Event, HtmlAnchorElement, HtmlCanvasElement, ImageData,
};

pub fn document() -> Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("the page has a document")
}

/// The element with `id`, as type `T`; a missing element is a bug in index.html.
pub fn by_id<T: JsCast>(id: &str) -> T {
    document()
        .get_element_by_id(id)
        .unwrap_or_else(|| panic!("index.html has no #{id}"))
        .dyn_into::<T>()
        .unwrap_or_else(|_| panic!("#{id} has the wrong element type"))
}

pub fn create<T: JsCast>(tag: &str) -> T {
    document()
        .create_element(tag)
        .expect("valid tag")
        .dyn_into::<T>()
        .expect("the tag's element type")
}

/// A `size`x`size` canvas.
pub fn face_canvas(size: usize) -> HtmlCanvasElement {
    let canvas: HtmlCanvasElement = create("canvas");
    canvas.set_width(size as u32);
    canvas.set_height(size as u32);
    canvas
}

/// Draws an RGB8 image at (`x`, 0) of `canvas`.
pub fn paint(canvas: &HtmlCanvasElement, rgb: &[u8], size: usize, x: usize) {
    let rgba: Vec<u8> = rgb
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    let image =
        ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), size as u32, size as u32)
            .expect("whole image");
    context(canvas)
        .put_image_data(&image, x as f64, 0.0)
        .expect("image fits the canvas");
}

fn context(canvas: &HtmlCanvasElement) -> CanvasRenderingContext2d {
    canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into().ok())
        .expect("2d canvas context")
}

/// Offers `url` (a data: or blob: URL) as a download named `name`.
pub fn download(url: &str, name: &str) {
    let link: HtmlAnchorElement = create("a");
    link.set_href(url);
    link.set_download(name);
    link.click();
}

/// Offers bytes as a download.
pub fn download_bytes(bytes: &[u8], mime: &str, name: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .map_err(|_| format!("cannot make {name}"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)
        .map_err(|_| format!("cannot offer {name}"))?;
    download(&url, name);
    // Revoking at once can cancel the download in some browsers; a minute is plenty.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(window) = web_sys::window() {
        let _ = window
            .set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 60_000);
    }
    Ok(())
}

/// A canvas as a PNG data URL.
pub fn png_url(canvas: &HtmlCanvasElement) -> String {
    canvas
        .to_data_url_with_type("image/png")
        .expect("canvas is not tainted")
}

pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// Adds a listener that lives as long as the page.
pub fn on(target: &web_sys::EventTarget, event: &str, handler: impl FnMut(Event) + 'static) {
    let closure = Closure::<dyn FnMut(Event)>::new(handler);
    target
        .add_event_listener_with_callback(event, closure.as_ref().unchecked_ref())
        .expect("listener");
    closure.forget();
}
