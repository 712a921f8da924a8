//! The loop that drives one session's engine, as the JavaScript shell's `driver.js` does: browser
//! happenings (the timer, fetch answers, Web Lock grants, `BroadcastChannel` messages,
//! `storage`, `visibilitychange`, `online` / `offline`, `pageshow` and `focus` events) become
//! engine calls, and the engine's actions are carried out.
//! No policy lives here: whether and when to refresh, retry, reject or go to login is the
//! engine's call ([`crate::engine::machine`]).
//!
//! Every entry goes through [`Inner::drive`]: one engine call with `now` (`js_sys::Date::now`),
//! then every action performed in order, the one timer re-armed (a gloo-timers `Timeout` for the
//! engine's next deadline), and only then, with the state no longer borrowed, app code runs
//! (subscribers, the waiters' wake-ups, the login callback, `location.assign`). The names and
//! texts other tabs see are the JavaScript shell's: the Web Lock is the storage key (for
//! `sessionStorage`, the key and the page's id), the `BroadcastChannel` is named by the key and
//! carries the engine's tab messages as strings, and the record is the engine's, so a Rust tab
//! and a JavaScript tab of one app cooperate.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::rc::{Rc, Weak};
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use std::collections::{HashMap, HashSet};

use gloo_timers::callback::Timeout;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{AbortController, BroadcastChannel, Event as DomEvent, MessageEvent, StorageEvent};

use crate::engine::machine::{Action, RefreshId, SessionMachine, Snapshot};
use crate::engine::Millis;

use super::config::{Checked, Config, OnLoginRequired};
use super::error::{AccessToken, SessionError, SessionEvent};
use super::http;
use super::store::Store;

/// Longest delay `setTimeout` honours (about 24.8 days); later deadlines wake early.
const MAX_TIMER: Millis = 0x7fff_ffff;
/// How long a tab keeps the refresh lock after the engine lets it go: a localStorage write
/// reaches other tabs' processes as a message, and a lock released at once can reach a tab that
/// still reads the record from before the refresh (driver.js says more).
const LOCK_SETTLE_MS: u32 = 50;

std::thread_local! {
    /// This page's Rust sessions on web storage, by area and key. Two sessions on one key in one
    /// page (a hot reload that kept the old one, two components that each made one) follow each
    /// other as tabs do, but the browser tells a page neither of its own storage writes nor, for
    /// sessionStorage, of its broadcasts: so a session hands what it writes and broadcasts to
    /// its siblings itself (as driver.js does for the JavaScript sessions of a page), and they
    /// take turns refreshing under the page's Web Lock.
    static PAGE: RefCell<HashMap<String, Vec<Weak<Inner>>>> = RefCell::new(HashMap::new());
}

/// The local clock, ms since the epoch: the only clock the driver reads.
pub(crate) fn now() -> Millis {
    js_sys::Date::now() as Millis
}

/// A subscriber.
pub(crate) type Listener = Rc<dyn Fn(&SessionEvent)>;

/// The channel to the other tabs and its message handler.
type Channel = (BroadcastChannel, Closure<dyn FnMut(MessageEvent)>);

/// A DOM listener: where, which event, the handler.
type DomListener = (
    web_sys::EventTarget,
    &'static str,
    Closure<dyn FnMut(DomEvent)>,
);

/// Releases a refresh lock: resolves the Web Lock's promise, or removes this tab's lease.
type Release = Box<dyn FnOnce()>;

/// Without Web Locks (Safari before 15.4), tabs on localStorage take the refresh lock as a lease
/// written in that storage, as driver.js does (its LEASE_MS says why these numbers): a tab writes
/// its claim, waits [`LEASE_SETTLE_MS`] for other tabs' writes to reach it, and holds the lease
/// if the claim read back is still its own; otherwise it tries again until the holder removes
/// the lease or it runs out.
const LEASE_MS: f64 = 20_000.0;
const LEASE_SETTLE_MS: i32 = 100;

/// App code to run once a drive is over.
type Later = Vec<Box<dyn FnOnce()>>;

/// One session's engine and the browser resources it uses.
pub(crate) struct Inner {
    pub config: Config,
    pub checked: Checked,
    pub state: RefCell<State>,
    /// The subscribers, apart from the state: subscribing never waits for a drive.
    pub listeners: RefCell<BTreeMap<u64, Listener>>,
    pub next_listener: Cell<u64>,
    /// The engine's snapshot as of the last drive.
    pub snapshot: Cell<Snapshot>,
    /// Where this session is in [`PAGE`] (web storage only).
    place: Option<String>,
    me: Weak<Inner>,
}

/// What a drive may change.
pub(crate) struct State {
    pub machine: SessionMachine,
    pub store: Store,
    waiters: HashMap<u64, Rc<Slot>>,
    /// refresh id → what releases its Web Lock (or lease).
    locks: HashMap<u64, Release>,
    /// refresh id → its AbortController.
    aborts: HashMap<u64, AbortController>,
    timer: Option<Timeout>,
    channel: Option<Channel>,
    /// The DOM listeners, removed when the session is dropped.
    dom: Vec<DomListener>,
    /// Driver-made events raised mid-drive, dispatched at its end.
    pub notices: Vec<SessionEvent>,
    /// Events raised while the session is being made: delivered once it is.
    held: Option<Vec<SessionEvent>>,
    /// The origins a request went to without the token, each told once.
    pub withheld: HashSet<String>,
    /// The latest sign-out's number: an older one's answers stop reaching the engine.
    pub signing_out: u64,
}

impl Inner {
    /// Builds the engine for `config`, resumes what storage holds and starts listening to the
    /// page and the other tabs.
    pub fn start(config: Config) -> Result<Rc<Inner>, SessionError> {
        let checked = config.check()?;
        let now = now();
        let mut notices = Vec::new();
        let store = Store::new(config.storage, &checked.key, &mut notices);
        let engine_config = crate::engine::config::Config::from_options(&config.provider_options())
            .map_err(|e| SessionError::from(crate::engine::error::AppError::from(e)))?;
        let machine = SessionMachine::new(engine_config, seed(now), now);
        let snapshot = machine.snapshot();
        let place = store
            .area
            .is_some()
            .then(|| format!("{:?} {}", config.storage, checked.key));
        let inner = Rc::new_cyclic(|me| Inner {
            config,
            checked,
            place,
            me: me.clone(),
            listeners: RefCell::new(BTreeMap::new()),
            next_listener: Cell::new(0),
            snapshot: Cell::new(snapshot),
            state: RefCell::new(State {
                machine,
                store,
                waiters: HashMap::new(),
                locks: HashMap::new(),
                aborts: HashMap::new(),
                timer: None,
                channel: None,
                dom: Vec::new(),
                notices,
                held: Some(Vec::new()),
                withheld: HashSet::new(),
                signing_out: 0,
            }),
        });
        if let Some(place) = &inner.place {
            PAGE.with(|page| {
                let mut page = page.borrow_mut();
                let siblings = page.entry(place.clone()).or_default();
                siblings.retain(|s| s.strong_count() > 0);
                siblings.push(inner.me.clone());
            });
        }
        let document = web_sys::window().and_then(|w| w.document());
        let visible = !document.as_ref().is_some_and(|d| d.hidden());
        let offline = web_sys::window().is_some_and(|w| !w.navigator().on_line());
        inner.drive(|s, now| {
            s.machine.handle_visibility(now, visible);
            if offline {
                s.machine.handle_network(now, false);
            }
            let State { store, notices, .. } = s;
            if let Some(record) = store.read(notices) {
                s.machine.handle_storage(now, record.as_deref());
            }
        });
        inner.listen(document);
        // Events raised while making the session reach the subscribers that subscribe right
        // after `Session::new`, on the next microtask (as the JavaScript shell does).
        let held = inner.state.borrow_mut().held.take().unwrap_or_default();
        if !held.is_empty() {
            let weak = inner.me.clone();
            spawn_local(async move {
                let Some(inner) = weak.upgrade() else { return };
                let listeners: Vec<Listener> = inner.listeners.borrow().values().cloned().collect();
                for event in &held {
                    for listener in &listeners {
                        listener(event);
                    }
                }
            });
        }
        Ok(inner)
    }

    /// The `BroadcastChannel` (localStorage sessions), `visibilitychange`, `online` / `offline`,
    /// `pageshow` / `focus` (a wake-up) and `storage`.
    fn listen(&self, document: Option<web_sys::Document>) {
        let mut s = self.state.borrow_mut();
        let shared = s.store.shared();
        if shared {
            if let Ok(channel) = BroadcastChannel::new(&self.checked.key) {
                let weak = self.me.clone();
                let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                    let (Some(inner), Some(message)) = (weak.upgrade(), e.data().as_string())
                    else {
                        return;
                    };
                    inner.drive(|s, now| s.machine.handle_tab_message(now, &message));
                });
                channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
                s.channel = Some((channel, on_message));
            }
        }
        if let Some(document) = document {
            let weak = self.me.clone();
            let doc = document.clone();
            let on_visibility = Closure::<dyn FnMut(DomEvent)>::new(move |_: DomEvent| {
                if let Some(inner) = weak.upgrade() {
                    let visible = !doc.hidden();
                    inner.drive(|s, now| s.machine.handle_visibility(now, visible));
                }
            });
            add(
                &mut s.dom,
                document.into(),
                "visibilitychange",
                on_visibility,
            );
        }
        if let Some(window) = web_sys::window() {
            for online in [true, false] {
                let weak = self.me.clone();
                let on_network = Closure::<dyn FnMut(DomEvent)>::new(move |_: DomEvent| {
                    if let Some(inner) = weak.upgrade() {
                        inner.drive(|s, now| s.machine.handle_network(now, online));
                    }
                });
                let kind = if online { "online" } else { "offline" };
                add(&mut s.dom, window.clone().into(), kind, on_network);
            }
            // Back from the back-forward cache, or focused after a sleep: the page may have
            // missed storage events, messages and timers for hours. Storage first (after the
            // cache), then the engine looks again at what is due, before anything is handed out.
            for kind in ["pageshow", "focus"] {
                let weak = self.me.clone();
                let on_wake = Closure::<dyn FnMut(DomEvent)>::new(move |e: DomEvent| {
                    let Some(inner) = weak.upgrade() else { return };
                    let persisted = Reflect::get(&e, &JsValue::from_str("persisted"))
                        .is_ok_and(|p| p.is_truthy());
                    inner.drive(|s, now| {
                        if persisted {
                            let State { store, notices, .. } = s;
                            if let Some(record) = store.read(notices) {
                                s.machine.handle_storage(now, record.as_deref());
                            }
                        }
                        s.machine.handle_timeout(now);
                    });
                });
                add(&mut s.dom, window.clone().into(), kind, on_wake);
            }
        }
        if let (true, Some(window)) = (shared, web_sys::window()) {
            let weak = self.me.clone();
            let key = self.checked.key.clone();
            let on_storage = Closure::<dyn FnMut(DomEvent)>::new(move |e: DomEvent| {
                let (Some(inner), Ok(e)) = (weak.upgrade(), e.dyn_into::<StorageEvent>()) else {
                    return;
                };
                let ours = inner
                    .state
                    .try_borrow()
                    .is_ok_and(|s| s.store.area.is_some() && e.storage_area() == s.store.area);
                if ours && e.key().map_or(true, |k| k == key) {
                    let record = e.new_value();
                    inner.drive(|s, now| s.machine.handle_storage(now, record.as_deref()));
                }
            });
            add(&mut s.dom, window.into(), "storage", on_storage);
        }
    }

    /// Runs `step(state, now)`, performs what the engine asked for, re-arms the timer, then runs
    /// app code. `None`, without running `step`, when the session is mid-drive (a re-entrant
    /// call cannot happen from app code, which runs after; this guards the rest).
    pub fn drive<R>(&self, step: impl FnOnce(&mut State, Millis) -> R) -> Option<R> {
        let mut later: Later = Vec::new();
        let out = {
            let mut s = self.state.try_borrow_mut().ok()?;
            let now = now();
            let out = step(&mut s, now);
            let before = self.snapshot.get();
            let mut emitted = self.perform(&mut s, now, &mut later);
            let notices: Vec<SessionEvent> = s.notices.drain(..).collect();
            for notice in notices {
                emitted = true;
                self.dispatch(&mut s, notice, &mut later);
            }
            self.rearm(&mut s, now);
            let snapshot = s.machine.snapshot();
            if snapshot != before {
                self.snapshot.set(snapshot);
                if !emitted && s.held.is_none() {
                    self.dispatch(&mut s, SessionEvent::Change, &mut later);
                }
            }
            out
        };
        for f in later {
            f();
        }
        Some(out)
    }

    /// Drains the engine's actions. Returns whether any event was emitted.
    fn perform(&self, s: &mut State, now: Millis, later: &mut Later) -> bool {
        let mut emitted = false;
        while let Some(action) = s.machine.poll_action() {
            match action {
                Action::AcquireRefreshLock { id } => self.acquire(s, now, id),
                Action::SendRefresh { id, request } => {
                    let Ok(controller) = AbortController::new() else {
                        s.machine.handle_refresh_failure(
                            now,
                            id,
                            "fetch failed: no AbortController",
                        );
                        continue;
                    };
                    s.aborts.insert(id.0, controller.clone());
                    let weak = self.me.clone();
                    spawn_local(async move {
                        let answer = http::send(&request, &controller).await;
                        if let Some(inner) = weak.upgrade() {
                            inner.drive(|s, now| {
                                s.aborts.remove(&id.0);
                                match answer.view() {
                                    Ok(response) => {
                                        s.machine.handle_refresh_response(now, id, &response)
                                    }
                                    Err(why) => s.machine.handle_refresh_failure(now, id, why),
                                }
                            });
                        }
                    });
                }
                Action::AbortRefresh { id } => {
                    if let Some(controller) = s.aborts.remove(&id.0) {
                        controller.abort();
                    }
                }
                Action::ReleaseRefreshLock { id } => {
                    if let Some(release) = s.locks.remove(&id.0) {
                        Timeout::new(LOCK_SETTLE_MS, release).forget();
                    }
                }
                // Token signatures: the engine asks for these only when the app turns on
                // `verify_tokens`, which the Rust `Config` does not offer yet. Should one come, it
                // fails closed: no key set is fetched, so no token passes a check.
                Action::AcquireKeysLock { id } => {
                    s.machine.handle_keys_lock(now, id, None);
                }
                Action::FetchKeys { id, .. } => {
                    let why = "the Rust driver does not fetch key sets";
                    s.machine.handle_keys_answer(now, id, Err(why), None);
                }
                Action::PersistKeys { .. } => {}
                Action::Verify { id, .. } => s.machine.handle_verified(now, id, false),
                Action::ResolveWaiters {
                    waiters,
                    access_token,
                } => {
                    for slot in waiters.iter().filter_map(|w| s.waiters.remove(&w.0)) {
                        let token = access_token.clone();
                        later.push(Box::new(move || slot.fill(Ok(AccessToken(token)))));
                    }
                }
                Action::RejectWaiters { waiters, error } => {
                    for slot in waiters.iter().filter_map(|w| s.waiters.remove(&w.0)) {
                        let error = SessionError::from(&error);
                        later.push(Box::new(move || slot.fill(Err(error))));
                    }
                }
                Action::Persist { record } => {
                    let State { store, notices, .. } = s;
                    store.write(record.as_deref(), notices);
                    self.tell_siblings(move |s, now| {
                        s.machine.handle_storage(now, record.as_deref())
                    });
                }
                Action::Broadcast { message } => {
                    // Other tabs (and this page's other sessions on the key, each with its
                    // channel); a closed channel drops it, storage events still carry the record.
                    if !s.store.shared() {
                        self.tell_siblings(move |s, now| {
                            s.machine.handle_tab_message(now, &message)
                        });
                    } else if let Some((channel, _)) = &s.channel {
                        let _ = channel.post_message(&JsValue::from_str(&message));
                    }
                }
                Action::GoToLogin { reason } => match &self.config.on_login_required {
                    OnLoginRequired::Nothing => {}
                    OnLoginRequired::Navigate(url) => {
                        let url = url.clone();
                        later.push(Box::new(move || navigate(&url)));
                    }
                    OnLoginRequired::Callback(f) => {
                        let f = f.clone();
                        later.push(Box::new(move || f(&reason)));
                    }
                },
                Action::Emit { event } => {
                    emitted = true;
                    self.dispatch(s, SessionEvent::from_engine(&event), later);
                }
            }
        }
        emitted
    }

    /// Feeds `step` to this page's other sessions on the same key, each after this drive, as the
    /// browser would deliver a storage event or a tab message.
    fn tell_siblings(&self, step: impl Fn(&mut State, Millis) + 'static) {
        let Some(place) = &self.place else { return };
        let siblings: Vec<Weak<Inner>> = PAGE.with(|page| {
            page.borrow()
                .get(place)
                .map(|all| {
                    all.iter()
                        .filter(|s| !s.ptr_eq(&self.me))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        });
        if siblings.is_empty() {
            return;
        }
        let step = Rc::new(step);
        for sibling in siblings {
            let step = step.clone();
            spawn_local(async move {
                if let Some(sibling) = sibling.upgrade() {
                    sibling.drive(|s, now| step(s, now));
                }
            });
        }
    }

    /// Takes the refresh lock: a Web Lock on web storage (for `localStorage` the one the other
    /// tabs take, for `sessionStorage` one of this page's), at once in memory. The lock is held
    /// by keeping the promise the lock callback returns pending until the engine says release.
    ///
    /// `navigator.locks` is reached through `Reflect`: web-sys has `LockManager` only behind
    /// `--cfg=web_sys_unstable_apis`, which a library cannot ask of the apps that use it.
    fn acquire(&self, s: &mut State, now: Millis, id: RefreshId) {
        if s.store.area.is_some() {
            if let Some((locks, request)) = lock_manager() {
                let name = if s.store.shared() {
                    self.checked.key.clone()
                } else {
                    format!("{} {}", self.checked.key, page_id())
                };
                let weak = self.me.clone();
                let granted = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
                    let mut release = None;
                    let held = Promise::new(&mut |resolve, _| release = Some(resolve));
                    let Some(release) = release else {
                        return held.into();
                    };
                    let ran = weak.upgrade().and_then(|inner| {
                        let release = release.clone();
                        inner.drive(move |s, now| {
                            let release: Release = Box::new(move || {
                                let _ = release.call0(&JsValue::UNDEFINED);
                            });
                            s.locks.insert(id.0, release);
                            lock_granted(s, now, id);
                        })
                    });
                    if ran.is_none() {
                        let _ = release.call0(&JsValue::UNDEFINED);
                    }
                    held.into()
                });
                let asked = request
                    .call2(&locks, &JsValue::from_str(&name), &granted)
                    .ok()
                    .and_then(|p| p.dyn_into::<Promise>().ok());
                if let Some(asked) = asked {
                    // Refused (the lock manager failed, or the page is going away): fail over at
                    // once, as without Web Locks, instead of waiting out the engine's timeout.
                    let weak = self.me.clone();
                    spawn_local(async move {
                        if JsFuture::from(asked).await.is_err() {
                            if let Some(inner) = weak.upgrade() {
                                inner.drive(move |s, now| lock_granted(s, now, id));
                            }
                        }
                    });
                    return;
                }
                // Web Locks refused outright: as without it, below.
            }
            if let (true, Some(area)) = (s.store.shared(), s.store.area.clone()) {
                self.lease(area, id);
                return;
            }
        }
        // Granted at once, inside the drive that asked: the engine takes it as the next input.
        lock_granted(s, now, id);
    }

    /// The refresh lock as a lease in localStorage (see [`LEASE_MS`]), when Web Locks is
    /// missing. Bounded: after twice the lease, the engine has long given up on this lock (its
    /// lock timeout), so the claim stops.
    fn lease(&self, area: web_sys::Storage, id: RefreshId) {
        let weak = self.me.clone();
        let key = format!("lock:{}", self.checked.key);
        let me = format!("{} {}", page_id(), id.0);
        spawn_local(async move {
            let holder = || {
                let claim = area.get_item(&key).ok().flatten()?;
                let claim: js_sys::Array = js_sys::JSON::parse(&claim).ok()?.dyn_into().ok()?;
                let until = claim.get(1).as_f64()?;
                (until > js_sys::Date::now()).then(|| claim.get(0).as_string())?
            };
            let give_up = js_sys::Date::now() + 2.0 * LEASE_MS;
            let mut granted = false;
            while js_sys::Date::now() < give_up {
                if weak.strong_count() == 0 {
                    return;
                }
                if holder().is_some_and(|who| who != me) {
                    sleep(LEASE_SETTLE_MS).await;
                    continue;
                }
                let claim = js_sys::Array::of2(
                    &JsValue::from_str(&me),
                    &JsValue::from_f64(js_sys::Date::now() + LEASE_MS),
                );
                let written = js_sys::JSON::stringify(&claim)
                    .ok()
                    .and_then(|c| c.as_string())
                    .is_some_and(|c| area.set_item(&key, &c).is_ok());
                if !written {
                    // Storage refused the claim: grant, as without any lock.
                    granted = true;
                    break;
                }
                sleep(LEASE_SETTLE_MS).await;
                if holder().as_deref() == Some(me.as_str()) {
                    granted = true;
                    break;
                }
            }
            let release: Release = {
                let (area, key, me) = (area.clone(), key.clone(), me.clone());
                Box::new(move || {
                    let still_mine = area
                        .get_item(&key)
                        .ok()
                        .flatten()
                        .and_then(|c| js_sys::JSON::parse(&c).ok())
                        .and_then(|c| c.dyn_into::<js_sys::Array>().ok())
                        .and_then(|c| c.get(0).as_string())
                        .is_some_and(|who| who == me);
                    if still_mine {
                        let _ = area.remove_item(&key);
                    }
                })
            };
            let Some(inner) = weak.upgrade() else {
                return release();
            };
            if !granted {
                // Out of time: the engine failed this lock already and releases a late grant.
                inner.drive(move |s, now| lock_granted(s, now, id));
                return;
            }
            let mut release = Some(release);
            let ran = inner.drive(|s, now| {
                if let Some(release) = release.take() {
                    s.locks.insert(id.0, release);
                }
                lock_granted(s, now, id);
            });
            if ran.is_none() {
                if let Some(release) = release.take() {
                    release();
                }
            }
        });
    }

    /// Keeps exactly one timer, for the engine's next deadline: set anew at every drive, since a
    /// clock that moved makes the old delay wrong even for the same deadline.
    fn rearm(&self, s: &mut State, now: Millis) {
        s.timer = s.machine.poll_timeout().map(|at| {
            let delay = at.saturating_sub(now).min(MAX_TIMER) as u32;
            let weak = self.me.clone();
            Timeout::new(delay, move || {
                if let Some(inner) = weak.upgrade() {
                    inner.drive(|s, now| s.machine.handle_timeout(now));
                }
            })
        });
    }

    /// Hands `event` to every subscriber after the drive (or holds it while the session is
    /// made).
    fn dispatch(&self, s: &mut State, event: SessionEvent, later: &mut Later) {
        if let Some(held) = &mut s.held {
            held.push(event);
            return;
        }
        for listener in self.listeners.borrow().values() {
            let (listener, event) = (listener.clone(), event.clone());
            later.push(Box::new(move || listener(&event)));
        }
    }

    /// Asks the engine for a token by `wait` ms from now.
    pub fn request(&self, wait: Millis) -> TokenWait {
        let asked = self.drive(|s, now| {
            use crate::engine::machine::TokenAnswer;
            match s.machine.request_token(now, now.saturating_add(wait)) {
                TokenAnswer::Ready(token) => TokenWait::Ready(Some(Ok(AccessToken(token.into())))),
                TokenAnswer::Failed(e) => TokenWait::Ready(Some(Err(SessionError::from(&e)))),
                TokenAnswer::Waiting(id) => {
                    let slot = Rc::new(Slot::default());
                    s.waiters.insert(id.0, slot.clone());
                    TokenWait::Waiting(slot)
                }
            }
        });
        asked.unwrap_or_else(|| TokenWait::Ready(Some(Err(busy()))))
    }
}

impl Drop for Inner {
    /// The last handle is gone: stop listening, abort the refresh, release the lock, reject the
    /// waiters (none can be left: each is awaited through a handle).
    fn drop(&mut self) {
        if let Some(place) = &self.place {
            // `try_with`: at thread teardown the registry may be gone already.
            let _ = PAGE.try_with(|page| {
                if let Ok(mut page) = page.try_borrow_mut() {
                    if let Some(siblings) = page.get_mut(place) {
                        siblings.retain(|s| s.strong_count() > 0);
                    }
                }
            });
        }
        let s = self.state.get_mut();
        for (target, kind, closure) in s.dom.drain(..) {
            let _ =
                target.remove_event_listener_with_callback(kind, closure.as_ref().unchecked_ref());
        }
        if let Some((channel, _)) = s.channel.take() {
            channel.set_onmessage(None);
            channel.close();
        }
        s.timer = None;
        for (_, controller) in s.aborts.drain() {
            controller.abort();
        }
        for (_, release) in s.locks.drain() {
            release();
        }
        for (_, slot) in s.waiters.drain() {
            slot.fill(Err(SessionError::bad_config("this session was dropped")));
        }
    }
}

/// The error of a call made while the session is mid-drive.
pub(crate) fn busy() -> SessionError {
    SessionError::bad_config("called from inside one of the session's own callbacks")
}

/// The engine holds the refresh lock `id` now: it reads storage as it is at this moment.
fn lock_granted(s: &mut State, now: Millis, id: RefreshId) {
    let State {
        store,
        notices,
        machine,
        ..
    } = s;
    let record = store.read(notices).flatten();
    machine.handle_refresh_lock(now, id, record.as_deref());
}

/// `target.addEventListener(kind, closure)`, undone when the session is dropped.
fn add(
    dom: &mut Vec<DomListener>,
    target: web_sys::EventTarget,
    kind: &'static str,
    closure: Closure<dyn FnMut(DomEvent)>,
) {
    if target
        .add_event_listener_with_callback(kind, closure.as_ref().unchecked_ref())
        .is_ok()
    {
        dom.push((target, kind, closure));
    }
}

/// Waits `ms` (a `setTimeout` promise).
async fn sleep(ms: i32) {
    let timer = Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(timer).await;
}

/// `navigator.locks` and its `request` method, when the browser has Web Locks.
fn lock_manager() -> Option<(JsValue, Function)> {
    let navigator = web_sys::window()?.navigator();
    let locks = Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
    if locks.is_undefined() || locks.is_null() {
        return None;
    }
    let request = Reflect::get(&locks, &JsValue::from_str("request"))
        .ok()?
        .dyn_into::<Function>()
        .ok()?;
    Some((locks, request))
}

/// This page's id, shared with the JavaScript shell's sessions in the page
/// (`globalThis[Symbol.for('cognito-session.page')].id`), which names a `sessionStorage`
/// session's Web Lock: one lock for every session of the page on that key.
fn page_id() -> String {
    let global = js_sys::global();
    let symbol = JsValue::from(js_sys::Symbol::for_("cognito-session.page"));
    let page = Reflect::get(&global, &symbol)
        .ok()
        .filter(|p| p.is_object())
        .unwrap_or_else(|| {
            let page = js_sys::Object::new();
            let _ = Reflect::set(
                &page,
                &JsValue::from_str("id"),
                &js_sys::Math::random().into(),
            );
            let _ = Reflect::set(&page, &JsValue::from_str("sessions"), &js_sys::Map::new());
            let _ = Reflect::set(&global, &symbol, &page);
            page.into()
        });
    // `${id}` in JavaScript: a number's shortest round-trip text, which JSON writes alike.
    Reflect::get(&page, &JsValue::from_str("id"))
        .ok()
        .and_then(|id| js_sys::JSON::stringify(&id).ok())
        .and_then(|text| text.as_string())
        .unwrap_or_default()
}

/// Sends the browser to `url`.
pub(crate) fn navigate(url: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign(url);
    }
}

/// 64 bits from WebCrypto for the engine's jitter (which spreads load between tabs and guards no
/// secret: without WebCrypto, `Math.random` and the clock).
fn seed(now: Millis) -> u64 {
    let mut bytes = [0u8; 8];
    if super::redirect::random_bytes(&mut bytes).is_err() {
        let hi = (js_sys::Math::random() * 4_294_967_296.0) as u64;
        let lo = (js_sys::Math::random() * 4_294_967_296.0) as u64 ^ now;
        return (hi << 32) ^ lo;
    }
    u64::from_le_bytes(bytes)
}

/// A waiter's outcome, filled by the drive that settles it.
#[derive(Default)]
pub(crate) struct Slot {
    outcome: RefCell<Option<Result<AccessToken, SessionError>>>,
    waker: RefCell<Option<Waker>>,
}

impl Slot {
    fn fill(&self, outcome: Result<AccessToken, SessionError>) {
        *self.outcome.borrow_mut() = Some(outcome);
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }
}

/// The engine's answer to a token request: now, or once a drive settles the waiter.
pub(crate) enum TokenWait {
    Ready(Option<Result<AccessToken, SessionError>>),
    Waiting(Rc<Slot>),
}

impl Future for TokenWait {
    type Output = Result<AccessToken, SessionError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            TokenWait::Ready(outcome) => match outcome.take() {
                Some(outcome) => Poll::Ready(outcome),
                None => Poll::Ready(Err(busy())),
            },
            TokenWait::Waiting(slot) => match slot.outcome.borrow_mut().take() {
                Some(outcome) => Poll::Ready(outcome),
                None => {
                    *slot.waker.borrow_mut() = Some(cx.waker().clone());
                    Poll::Pending
                }
            },
        }
    }
}
