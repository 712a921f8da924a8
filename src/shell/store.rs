//! Where the session record lives: memory, `sessionStorage` or `localStorage`, under one
//! namespaced key.
//!
//! Web storage can throw at any moment (disabled by the user, private mode, quota exceeded, a
//! sandboxed iframe). A failure never reaches the app as a crash: the store falls back to
//! memory, keeping what it was asked to hold, and reports why once so the app can be told.

use super::config::StorageMode;
use super::errors::with_cause;
use wasm_bindgen::JsValue;

enum Backend {
    Memory(Option<String>),
    Web(web_sys::Storage),
}

/// The session record's home.
pub struct Store {
    backend: Backend,
    key: String,
    shared: bool,
}

impl Store {
    /// Opens the store for `mode`. When web storage is unavailable the store is in memory and the
    /// reason is returned alongside.
    pub fn open(mode: StorageMode, key: String) -> (Store, Option<String>) {
        let area = match mode {
            StorageMode::Memory => return (Store::memory(key, None), None),
            StorageMode::Session => super::window().map(|w| w.session_storage()),
            StorageMode::Local => super::window().map(|w| w.local_storage()),
        };
        match area {
            Some(Ok(Some(storage))) => (
                Store {
                    backend: Backend::Web(storage),
                    key,
                    shared: mode == StorageMode::Local,
                },
                None,
            ),
            Some(Err(e)) => (
                Store::memory(key, None),
                Some(with_cause("web storage is unavailable", &e)),
            ),
            _ => (
                Store::memory(key, None),
                Some(String::from("web storage is unavailable")),
            ),
        }
    }

    fn memory(key: String, record: Option<String>) -> Store {
        Store {
            backend: Backend::Memory(record),
            key,
            shared: false,
        }
    }

    /// The namespaced key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Whether other tabs see this store (`localStorage`), so tabs must coordinate.
    pub fn shared(&self) -> bool {
        self.shared
    }

    /// Whether `area` is the storage this store writes to (for `storage` events).
    pub fn is_area(&self, area: &web_sys::Storage) -> bool {
        match &self.backend {
            Backend::Web(storage) => {
                AsRef::<JsValue>::as_ref(storage) == AsRef::<JsValue>::as_ref(area)
            }
            Backend::Memory(_) => false,
        }
    }

    /// The record, if any. On a storage exception the store moves to memory (empty) and the
    /// reason is returned as `Err`.
    pub fn read(&mut self) -> Result<Option<String>, String> {
        match &self.backend {
            Backend::Memory(record) => Ok(record.clone()),
            Backend::Web(storage) => match storage.get_item(&self.key) {
                Ok(record) => Ok(record),
                Err(e) => {
                    self.backend = Backend::Memory(None);
                    self.shared = false;
                    Err(with_cause("reading web storage failed", &e))
                }
            },
        }
    }

    /// Writes (`Some`) or removes (`None`) the record. On a storage exception the record is kept
    /// in memory instead and the reason returned as `Err`.
    pub fn write(&mut self, record: Option<&str>) -> Result<(), String> {
        let result = match &mut self.backend {
            Backend::Memory(held) => {
                *held = record.map(String::from);
                return Ok(());
            }
            Backend::Web(storage) => match record {
                Some(text) => storage.set_item(&self.key, text),
                None => storage.remove_item(&self.key),
            },
        };
        result.map_err(|e| {
            self.backend = Backend::Memory(record.map(String::from));
            self.shared = false;
            with_cause("writing web storage failed", &e)
        })
    }
}
