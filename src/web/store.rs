//! Where the session record lives: memory, `sessionStorage` or `localStorage` (web-sys
//! `Storage`), under the key the JavaScript shell uses. Web storage can throw at any moment
//! (disabled, private mode, quota, sandboxed iframe): the store then falls back to memory,
//! keeping what it was asked to hold, and says why, for a
//! [`SessionEvent::StorageUnavailable`].

use alloc::string::String;

use super::config::Storage;
use super::http::cause;
use super::SessionEvent;

/// One session's record.
pub(crate) struct Store {
    key: String,
    /// The web storage area written to; `None` in memory.
    pub area: Option<web_sys::Storage>,
    local: bool,
    held: Option<String>,
}

impl Store {
    /// The store for `mode` under `key`; a failure to open web storage is pushed to `notices`.
    pub fn new(mode: Storage, key: &str, notices: &mut alloc::vec::Vec<SessionEvent>) -> Store {
        let mut store = Store {
            key: String::from(key),
            area: None,
            local: mode == Storage::Local,
            held: None,
        };
        if mode == Storage::Memory {
            return store;
        }
        let area = web_sys::window().map(|w| {
            if store.local {
                w.local_storage()
            } else {
                w.session_storage()
            }
        });
        match area {
            Some(Ok(Some(area))) => store.area = Some(area),
            Some(Err(e)) => notices.push(unavailable(cause("web storage is unavailable", &e))),
            _ => notices.push(unavailable(String::from("web storage is unavailable"))),
        }
        store
    }

    /// Whether other tabs see this store (`localStorage`), so tabs must coordinate.
    pub fn shared(&self) -> bool {
        self.local && self.area.is_some()
    }

    /// The record (`Some(None)`: none), or `None` when reading failed (the store is memory now).
    pub fn read(&mut self, notices: &mut alloc::vec::Vec<SessionEvent>) -> Option<Option<String>> {
        let Some(area) = &self.area else {
            return Some(self.held.clone());
        };
        match area.get_item(&self.key) {
            Ok(record) => Some(record),
            Err(e) => {
                self.area = None;
                self.held = None;
                notices.push(unavailable(cause("reading web storage failed", &e)));
                None
            }
        }
    }

    /// Writes (`Some`) or removes (`None`) the record.
    pub fn write(&mut self, record: Option<&str>, notices: &mut alloc::vec::Vec<SessionEvent>) {
        if let Some(area) = &self.area {
            let written = match record {
                Some(record) => area.set_item(&self.key, record),
                None => area.remove_item(&self.key),
            };
            match written {
                Ok(()) => return,
                Err(e) => {
                    self.area = None;
                    notices.push(unavailable(cause("writing web storage failed", &e)));
                }
            }
        }
        self.held = record.map(String::from);
    }
}

fn unavailable(detail: String) -> SessionEvent {
    SessionEvent::StorageUnavailable { detail }
}
