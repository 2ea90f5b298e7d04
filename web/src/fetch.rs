//! Downloads the weights as a static file, reporting progress as the bytes arrive.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, Response};

/// Fetches `url` and returns its bytes; `progress(loaded, total)` is called after each chunk
/// (`total` is `None` when the server sends no Content-Length, e.g. when it compresses).
pub async fn fetch_bytes(
    url: &str,
    mut progress: impl FnMut(usize, Option<usize>),
) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response: Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|error| format!("cannot download {url}: {}", describe(&error)))?
        .dyn_into()
        .map_err(|_| format!("cannot download {url}: not an HTTP response"))?;
    if !response.ok() {
        return Err(format!(
            "cannot download {url}: HTTP {} {}",
            response.status(),
            response.status_text()
        ));
    }
    let total = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|length| length.parse::<usize>().ok());
    let body = response
        .body()
        .ok_or_else(|| format!("cannot download {url}: the response has no body"))?;
    let reader: ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| format!("cannot download {url}: no stream reader"))?;

    let mut bytes = Vec::with_capacity(total.unwrap_or(0));
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|error| format!("download of {url} broke off: {}", describe(&error)))?;
        let done = Reflect::get(&chunk, &JsValue::from_str("done"))
            .map(|d| d.is_truthy())
            .unwrap_or(true);
        if done {
            break;
        }
        let value = Reflect::get(&chunk, &JsValue::from_str("value"))
            .map_err(|_| format!("download of {url}: a chunk without bytes"))?;
        bytes.extend(Uint8Array::new(&value).to_vec());
        progress(bytes.len(), total);
    }
    Ok(bytes)
}

/// A JavaScript error as readable text.
pub fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}
