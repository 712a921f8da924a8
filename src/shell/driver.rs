//! The loop that runs the core in the page: browser happenings in, the core's actions out.
//!
//! Every entry point (an API call, a timer, a fetch answer, a lock grant, a tab message, a
//! `storage` or `visibilitychange` event) goes through [`drive`]: borrow the state, feed the
//! core one `handle_*` call with `now`, drain `poll_action` performing each action in order,
//! re-arm the single timer from `poll_timeout`, refresh the caches the hot path reads, and only
//! then, with the state released, call into app code (listeners, promise settlers,
//! `onLoginRequired`, `location.assign`). App code therefore never runs while the state is
//! borrowed, so a listener that calls back into the session cannot trip a `RefCell` panic.
//!
//! The shell holds no policy: whether and when to refresh, retry, reject or go to login is
//! the core's call; this file only carries it out.

use super::config::{ShellConfig, StorageMode};
use super::errors::session_error;
use super::events;
use super::promise::defer;
use super::store::Store;
use super::tabs::{self, Channel};
use super::timer::Timer;
use super::{env, http};
use crate::core::session::{Action, RefreshId, Session, Snapshot, WaiterId};
use crate::core::Millis;
use js_sys::{Function, Promise};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::AbortController;

/// Longest delay `setTimeout` honours (about 24.8 days); later deadlines wake early and re-arm.
const MAX_TIMER: Millis = 0x7fff_ffff;

/// The current access token as a ready JS string, and until when the core would hand it out.
pub struct CachedToken {
    text: String,
    pub js: JsValue,
    /// `expires_at - min_validity`: the same bound as `TokenSet::usable_at`.
    pub until: Millis,
}

/// Something to do once the state is released.
enum Deferred {
    Call(Function, JsValue),
    Assign(String),
}

/// A DOM listener to remove on drop.
struct Listener {
    target: web_sys::EventTarget,
    kind: &'static str,
    closure: Closure<dyn FnMut(JsValue)>,
}

/// The state of one JS `Session`.
pub struct Inner {
    pub core: Session,
    pub store: Store,
    key: String,
    login_url: Option<String>,
    on_login_required: Option<Function>,
    pub allowed_origins: Vec<String>,
    waiters: Vec<(WaiterId, Function, Function)>,
    locks: Vec<(RefreshId, Function)>,
    aborts: Vec<(RefreshId, AbortController)>,
    timer: Option<(Millis, Timer)>,
    channel: Option<Channel>,
    dom: Vec<Listener>,
    listeners: Vec<(u32, Function)>,
    next_listener: u32,
    /// Events raised while the constructor runs, delivered on the next microtask so listeners
    /// subscribed right after `new Session()` see them (e.g. tampered storage discarded).
    held: Option<Vec<JsValue>>,
    /// Shell-made events (storage failures) raised mid-drive, dispatched at its end.
    notices: Vec<JsValue>,
    pub token: Option<CachedToken>,
    /// (the token the claims were read from, the frozen claims object)
    pub claims: Option<(String, JsValue)>,
    snapshot: Option<(Snapshot, Option<JsValue>)>,
    weak: Weak<RefCell<Inner>>,
}

/// Builds the state, reads storage and wires the browser events.
pub fn start(config: ShellConfig) -> Rc<RefCell<Inner>> {
    let now = env::now();
    let (store, unavailable) = Store::open(config.storage, config.key.clone());
    let shared = config.storage == StorageMode::Local && store.shared();
    let inner = Rc::new_cyclic(|weak: &Weak<RefCell<Inner>>| {
        RefCell::new(Inner {
            core: Session::new(config.core, env::seed(), now),
            store,
            key: config.key,
            login_url: config.login_url,
            on_login_required: config.on_login_required,
            allowed_origins: config.allowed_origins,
            waiters: Vec::new(),
            locks: Vec::new(),
            aborts: Vec::new(),
            timer: None,
            channel: None,
            dom: Vec::new(),
            listeners: Vec::new(),
            next_listener: 0,
            held: Some(Vec::new()),
            notices: Vec::new(),
            token: None,
            claims: None,
            snapshot: None,
            weak: weak.clone(),
        })
    });
    let weak = Rc::downgrade(&inner);
    if let Ok(mut state) = inner.try_borrow_mut() {
        if let Some(reason) = unavailable {
            state.storage_unavailable(&reason);
        }
        if shared {
            let w = weak.clone();
            state.channel = Channel::open(&state.key, move |message| {
                if let Some(rc) = w.upgrade() {
                    drive(&rc, &mut |s, now| s.core.handle_tab_message(now, &message));
                }
            });
        }
        state.wire_dom(shared);
    }
    // What storage holds at start is the session to resume (or a record to discard).
    drive(&inner, &mut |s, now| {
        let visible = super::window()
            .and_then(|w| w.document())
            .map_or(true, |d| !d.hidden());
        s.core.handle_visibility(now, visible);
        match s.store.read() {
            Ok(record) => s.core.handle_storage(now, record.as_deref()),
            Err(reason) => s.storage_unavailable(&reason),
        }
    });
    // Events raised while constructing go out on the next microtask, so a listener subscribed
    // right after `new Session()` hears them; later events are delivered as they happen.
    let held = inner
        .try_borrow_mut()
        .ok()
        .and_then(|mut s| s.held.take())
        .unwrap_or_default();
    if !held.is_empty() {
        defer(move || {
            let Some(rc) = weak.upgrade() else { return };
            let listeners = rc
                .try_borrow()
                .map(|s| s.listeners.clone())
                .unwrap_or_default();
            for event in held {
                for (_, listener) in &listeners {
                    let _ = listener.call1(&JsValue::UNDEFINED, &event);
                }
            }
        });
    }
    inner
}

/// Runs `step` against the state at `now`, then performs what the core asked for (see the module
/// doc). Returns `false` when the state was busy (a re-entrant call), in which case `step` did
/// not run.
pub fn drive(rc: &Rc<RefCell<Inner>>, step: &mut dyn FnMut(&mut Inner, Millis)) -> bool {
    let mut deferred = Vec::new();
    {
        let Ok(mut state) = rc.try_borrow_mut() else {
            return false;
        };
        let now = env::now();
        step(&mut state, now);
        let before = state.snapshot.as_ref().map(|(s, _)| *s);
        let mut emitted = state.perform(now, &mut deferred);
        for notice in std::mem::take(&mut state.notices) {
            emitted = true;
            state.dispatch(notice, &mut deferred);
        }
        state.rearm(now);
        state.refresh_caches(before, emitted, &mut deferred);
    }
    for item in deferred {
        match item {
            Deferred::Call(f, arg) => {
                // An app callback that throws must not stop the others.
                let _ = f.call1(&JsValue::UNDEFINED, &arg);
            }
            Deferred::Assign(url) => {
                if let Some(w) = super::window() {
                    let _ = w.location().assign(&url);
                }
            }
        }
    }
    true
}

impl Inner {
    /// Adds a listener; returns its id for [`Inner::unsubscribe`].
    pub fn subscribe(&mut self, listener: Function) -> u32 {
        self.next_listener = self.next_listener.wrapping_add(1);
        self.listeners.push((self.next_listener, listener));
        self.next_listener
    }

    pub fn unsubscribe(&mut self, id: u32) {
        self.listeners.retain(|(l, _)| *l != id);
    }

    /// Parks a caller's promise settlers under `id`.
    pub fn park(&mut self, id: WaiterId, resolve: Function, reject: Function) {
        self.waiters.push((id, resolve, reject));
    }

    /// The `getSnapshot()` object: the same object until the snapshot changes.
    pub fn snapshot_object(&mut self) -> JsValue {
        let now = self.core.snapshot();
        match &mut self.snapshot {
            Some((s, Some(obj))) if *s == now => obj.clone(),
            _ => {
                let obj = events::snapshot(&now);
                self.snapshot = Some((now, Some(obj.clone())));
                obj
            }
        }
    }

    /// Drains the core's actions. Returns whether any event was emitted.
    fn perform(&mut self, now: Millis, deferred: &mut Vec<Deferred>) -> bool {
        let mut emitted = false;
        while let Some(action) = self.core.poll_action() {
            match action {
                Action::AcquireRefreshLock { id } => self.acquire(now, id),
                Action::SendRefresh { id, request } => {
                    let controller = AbortController::new().ok();
                    if let Some(c) = &controller {
                        self.aborts.push((id, c.clone()));
                    }
                    let weak = self.weak.clone();
                    let done = move |answer: http::Answer| {
                        let Some(rc) = weak.upgrade() else { return };
                        drive(&rc, &mut |s, now| {
                            s.aborts.retain(|(a, _)| *a != id);
                            match &answer {
                                Ok(received) => {
                                    s.core
                                        .handle_refresh_response(now, id, &received.as_response())
                                }
                                Err(message) => s.core.handle_refresh_failure(now, id, message),
                            }
                        });
                    };
                    http::send(&request, controller, Box::new(done));
                }
                Action::AbortRefresh { id } => {
                    if let Some(pos) = self.aborts.iter().position(|(a, _)| *a == id) {
                        let (_, controller) = self.aborts.swap_remove(pos);
                        controller.abort();
                    }
                }
                Action::ReleaseRefreshLock { id } => {
                    if let Some(pos) = self.locks.iter().position(|(l, _)| *l == id) {
                        let (_, release) = self.locks.swap_remove(pos);
                        deferred.push(Deferred::Call(release, JsValue::UNDEFINED));
                    }
                }
                Action::ResolveWaiters {
                    waiters,
                    access_token,
                } => {
                    let token = JsValue::from_str(&access_token);
                    for id in waiters {
                        if let Some((resolve, _)) = self.take_waiter(id) {
                            deferred.push(Deferred::Call(resolve, token.clone()));
                        }
                    }
                }
                Action::RejectWaiters { waiters, error } => {
                    let error = session_error(&error);
                    for id in waiters {
                        if let Some((_, reject)) = self.take_waiter(id) {
                            deferred.push(Deferred::Call(reject, error.clone()));
                        }
                    }
                }
                Action::Persist { record } => {
                    if let Err(reason) = self.store.write(record.as_deref()) {
                        self.storage_unavailable(&reason);
                    }
                }
                Action::Broadcast { message } => {
                    if self.store.shared() {
                        if let Some(channel) = &self.channel {
                            channel.post(&message);
                        }
                    }
                }
                Action::GoToLogin { reason } => {
                    if let Some(callback) = &self.on_login_required {
                        let name = JsValue::from_str(events::reason_name(&reason));
                        deferred.push(Deferred::Call(callback.clone(), name));
                    } else if let Some(url) = &self.login_url {
                        deferred.push(Deferred::Assign(url.clone()));
                    }
                }
                Action::Emit { event } => {
                    emitted = true;
                    let event = events::event(&event);
                    self.dispatch(event, deferred);
                }
            }
        }
        emitted
    }

    fn take_waiter(&mut self, id: WaiterId) -> Option<(Function, Function)> {
        let pos = self.waiters.iter().position(|(w, _, _)| *w == id)?;
        let (_, resolve, reject) = self.waiters.swap_remove(pos);
        Some((resolve, reject))
    }

    /// Hands `event` to every listener (or holds it while the constructor runs).
    fn dispatch(&mut self, event: JsValue, deferred: &mut Vec<Deferred>) {
        if let Some(held) = &mut self.held {
            held.push(event);
            return;
        }
        for (_, listener) in &self.listeners {
            deferred.push(Deferred::Call(listener.clone(), event.clone()));
        }
    }

    /// Web storage failed: the store is in memory now; the app is told at the end of the drive.
    fn storage_unavailable(&mut self, reason: &str) {
        let event = events::object(
            "storageUnavailable",
            Some(("detail", JsValue::from_str(reason))),
        );
        self.notices.push(event);
    }

    /// Takes the refresh lock: Web Locks for a `localStorage` session shared with other tabs,
    /// at once otherwise (each tab is its own session).
    fn acquire(&mut self, now: Millis, id: RefreshId) {
        if self.store.shared() {
            let weak = self.weak.clone();
            let granted = Box::new(move || -> Promise {
                let mut release = None;
                let held = Promise::new(&mut |resolve, _reject| release = Some(resolve));
                match (weak.upgrade(), release) {
                    (Some(rc), Some(release)) => {
                        let ran = drive(&rc, &mut |s, now| {
                            s.locks.push((id, release.clone()));
                            let record = match s.store.read() {
                                Ok(record) => record,
                                Err(reason) => {
                                    s.storage_unavailable(&reason);
                                    None
                                }
                            };
                            s.core.handle_refresh_lock(now, id, record.as_deref());
                        });
                        if !ran {
                            let _ = release.call0(&JsValue::UNDEFINED);
                        }
                    }
                    (_, Some(release)) => {
                        let _ = release.call0(&JsValue::UNDEFINED);
                    }
                    _ => {}
                }
                held
            });
            if tabs::request_lock(&self.key, granted) {
                return;
            }
        }
        let record = match self.store.read() {
            Ok(record) => record,
            Err(reason) => {
                self.storage_unavailable(&reason);
                None
            }
        };
        self.core.handle_refresh_lock(now, id, record.as_deref());
    }

    /// Keeps exactly one timer, for the core's next deadline.
    fn rearm(&mut self, now: Millis) {
        let next = self.core.poll_timeout();
        match (next, &self.timer) {
            (Some(at), Some((armed, _))) if *armed == at => {}
            (None, _) => self.timer = None,
            (Some(at), _) => {
                let delay = at.saturating_sub(now).min(MAX_TIMER) as u32;
                let weak = self.weak.clone();
                // Replacing the old Timer drops it, which cancels it.
                self.timer = Some((
                    at,
                    Timer::new(
                        delay,
                        Box::new(move || {
                            if let Some(rc) = weak.upgrade() {
                                drive(&rc, &mut |s, now| {
                                    s.timer = None;
                                    s.core.handle_timeout(now);
                                });
                            }
                        }),
                    ),
                ));
            }
        }
    }

    /// Re-reads what the hot paths cache: the access token as a JS string, the claims key and
    /// the snapshot. Tells listeners `{type: "change"}` when the snapshot moved without an event.
    fn refresh_caches(
        &mut self,
        before: Option<Snapshot>,
        emitted: bool,
        deferred: &mut Vec<Deferred>,
    ) {
        let min_validity = self.core.config().rules.min_validity;
        match self.core.tokens() {
            Some(t) => {
                let until = t.expires_at.saturating_sub(min_validity);
                match &mut self.token {
                    Some(c) if c.text == t.access_token => c.until = until,
                    _ => {
                        self.token = Some(CachedToken {
                            text: t.access_token.clone(),
                            js: JsValue::from_str(&t.access_token),
                            until,
                        })
                    }
                }
            }
            None => self.token = None,
        }
        let now = self.core.snapshot();
        if before != Some(now) {
            self.snapshot = Some((now, None));
            if !emitted && before.is_some() {
                let event = events::object("change", None);
                self.dispatch(event, deferred);
            }
        }
    }

    /// Listens for `visibilitychange` and, for shared sessions, `storage` events.
    fn wire_dom(&mut self, shared: bool) {
        let Some(window) = super::window() else {
            return;
        };
        if let Some(document) = window.document() {
            let weak = self.weak.clone();
            let doc = document.clone();
            let closure = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
                if let Some(rc) = weak.upgrade() {
                    let visible = !doc.hidden();
                    drive(&rc, &mut |s, now| s.core.handle_visibility(now, visible));
                }
            });
            self.listen(document.into(), "visibilitychange", closure);
        }
        if shared {
            let weak = self.weak.clone();
            let closure = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
                let Some(e) = e.dyn_ref::<web_sys::StorageEvent>() else {
                    return;
                };
                let Some(rc) = weak.upgrade() else { return };
                let ours = rc.try_borrow().is_ok_and(|s| {
                    e.storage_area().is_some_and(|a| s.store.is_area(&a))
                        && e.key().map_or(true, |k| k == s.store.key())
                });
                if ours {
                    let record = e.new_value();
                    drive(&rc, &mut |s, now| {
                        s.core.handle_storage(now, record.as_deref())
                    });
                }
            });
            self.listen(window.into(), "storage", closure);
        }
    }

    fn listen(
        &mut self,
        target: web_sys::EventTarget,
        kind: &'static str,
        closure: Closure<dyn FnMut(JsValue)>,
    ) {
        if target
            .add_event_listener_with_callback(kind, closure.as_ref().unchecked_ref())
            .is_ok()
        {
            self.dom.push(Listener {
                target,
                kind,
                closure,
            });
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        for l in &self.dom {
            let _ = l
                .target
                .remove_event_listener_with_callback(l.kind, l.closure.as_ref().unchecked_ref());
        }
        for (_, controller) in &self.aborts {
            controller.abort();
        }
        for (_, release) in &self.locks {
            let _ = release.call0(&JsValue::UNDEFINED);
        }
        if !self.waiters.is_empty() {
            let error = super::errors::error(
                super::errors::NOT_SIGNED_IN,
                "the session was freed while this caller waited",
                None,
            );
            for (_, _, reject) in &self.waiters {
                let _ = reject.call1(&JsValue::UNDEFINED, &error);
            }
        }
    }
}
