//! The streaming [`MailSource`] over one folder, with reconnects, back-off, and the isolation of
//! messages a server cannot or will not deliver.
use std::collections::BTreeMap;

use super::*;

/// How [`ImapSource`] reconnects after the connection drops (`reconnect-attempts`,
/// `reconnect-delay-secs`, `reconnect-max-delay-secs` in the config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// Reconnection attempts after a failure before giving up (0: never reconnect).
    pub attempts: u32,
    /// Wait before the first attempt; doubled before each next one.
    pub first_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
}

impl Default for Retry {
    /// 5 attempts, after 1, 2, 4, 8 and 16 s (31 s in all: long enough for a server restart).
    fn default() -> Self {
        Retry { attempts: 5, first_delay: Duration::from_secs(1), max_delay: Duration::from_secs(60) }
    }
}

impl Retry {
    /// The wait before attempt `n` (0-based).
    pub fn delay(&self, n: u32) -> Duration {
        self.first_delay.saturating_mul(2u32.saturating_pow(n)).min(self.max_delay)
    }
}

/// Bodies per `UID FETCH`, by their announced sizes: a batch is cut when it reaches this many bytes
/// (a bigger message is fetched alone).
pub const FETCH_BYTES: u64 = 16 * 1024 * 1024;

/// A [`MailSource`] over one IMAP folder: the messages whose UID is above `last_uid`, in UID
/// order, fetched `batch_size` at a time (and at most [`FETCH_BYTES`] of bodies at a time). The
/// connection is opened on the first pull. When it drops, the source reconnects (see [`Retry`]),
/// checks that UIDVALIDITY is still the expected one, and resumes after the last UID it
/// delivered: every message comes exactly once. A changed UIDVALIDITY, a refused login or a bad
/// certificate end the stream with one `Err`. Messages over the size limit are one `Err` each
/// ([`IngestError::TooLarge`]) and are not downloaded; a message the server refuses or answers for
/// with something unreadable or too slowly is one `Err` ([`IngestError::Message`]), and the
/// messages after it come as usual. Items always come in UID order.
pub struct ImapSource {
    pub(super) cfg: ImapConfig,
    pub(super) folder: String,
    pub(super) uidvalidity: u32,
    pub(super) last_uid: u32,
    pub(super) retry: Retry,
    pub(super) max_message_bytes: u64,
    pub(super) changed_uidvalidity: Option<u32>,
}

impl ImapSource {
    /// `uidvalidity` is the value the caller's `last_uid` belongs to (from [`ImapSession::examine`]
    /// on a first run, or from its state).
    pub fn new(cfg: ImapConfig, folder: String, uidvalidity: u32, last_uid: u32) -> Self {
        ImapSource {
            retry: cfg.retry.clone(),
            cfg,
            folder,
            uidvalidity,
            last_uid,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            changed_uidvalidity: None,
        }
    }

    pub fn with_retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// Messages larger than this are refused (not downloaded). Default
    /// [`DEFAULT_MAX_MESSAGE_BYTES`].
    pub fn with_max_message_bytes(mut self, limit: u64) -> Self {
        self.max_message_bytes = limit;
        self
    }

    /// The highest UID delivered so far (or the `last_uid` it was created with).
    pub fn last_uid(&self) -> u32 {
        self.last_uid
    }

    pub fn uidvalidity(&self) -> u32 {
        self.uidvalidity
    }

    /// The folder's new UIDVALIDITY, when the stream ended because it no longer matched
    /// [`ImapSource::uidvalidity`]: the caller should forget the folder's UIDs and read it again.
    pub fn changed_uidvalidity(&self) -> Option<u32> {
        self.changed_uidvalidity
    }

    pub fn folder(&self) -> &str {
        &self.folder
    }

    fn origin(&self, uid: u32) -> SourceRef {
        SourceRef::Imap { mailbox: self.cfg.name.clone(), folder: self.folder.clone(), uidvalidity: self.uidvalidity, uid }
    }
}

impl MailSource for ImapSource {
    fn describe(&self) -> String {
        format!("imap:{}/{}", self.cfg.label(), self.folder)
    }

    fn mails(&mut self) -> MailIter<'_> {
        let frontier = self.last_uid;
        Box::new(ImapIter {
            src: self,
            session: None,
            todo: None,
            frontier,
            sized: VecDeque::new(),
            alone: VecDeque::new(),
            ready: BTreeMap::new(),
            failed: None,
            done: false,
        })
    }
}

type Item = Result<RawMail, IngestError>;

pub(super) struct ImapIter<'a> {
    pub(super) src: &'a mut ImapSource,
    pub(super) session: Option<ImapSession>,
    /// UIDs found by the last search on this connection, not yet sized.
    todo: Option<VecDeque<u32>>,
    /// The highest UID taken out of `todo` (a new search starts after it).
    frontier: u32,
    /// Sized, to fetch in batches: (uid, size).
    sized: VecDeque<(u32, u64)>,
    /// To fetch one at a time (no size known, or their batch failed).
    alone: VecDeque<u32>,
    /// Done, not yet handed out; handed out in UID order, only below every UID still in flight.
    ready: BTreeMap<u32, Item>,
    /// The error that ended the stream, handed out after what is ready.
    failed: Option<IngestError>,
    done: bool,
}

impl ImapIter<'_> {
    /// The smallest UID not yet resolved.
    fn in_flight(&self) -> Option<u32> {
        let a = self.sized.front().map(|&(uid, _)| uid);
        let b = self.alone.iter().min().copied();
        a.into_iter().chain(b).min()
    }

    /// The session, connected and in the folder (with its UIDVALIDITY checked).
    fn connected(&mut self) -> Result<&mut ImapSession, Fail> {
        if self.session.is_none() {
            self.todo = None;
            let src = &*self.src;
            let mut session = ImapSession::open(&src.cfg, src.max_message_bytes)?;
            let status = session.examine_inner(&src.folder)?;
            if status.uidvalidity != src.uidvalidity {
                let message = uidvalidity_changed(&src.folder, src.uidvalidity, status.uidvalidity);
                self.src.changed_uidvalidity = Some(status.uidvalidity);
                return Err(Fail::fatal(message));
            }
            self.session = Some(session);
        }
        Ok(self.session.as_mut().expect("connected above"))
    }

    /// One step: fetch one message alone, or one batch, or size the next UIDs, or search.
    /// `Ok(false)`: nothing left.
    pub(super) fn fill_once(&mut self) -> Result<bool, Fail> {
        let limit = self.src.max_message_bytes;
        if let Some(&uid) = self.alone.front() {
            let (folder, uidvalidity) = (self.src.folder.clone(), self.src.uidvalidity);
            let session = self.connected()?;
            let got = session.fetch_inner(&folder, uidvalidity, &[uid], limit, partial_len(limit));
            let item = match got {
                Ok(mut batch) => match batch.bodies.remove(&uid) {
                    Some((bytes, size)) => Some(self.body(uid, bytes, size)),
                    None => batch.trouble.map(|why| Err(self.message_error(uid, why))),
                },
                Err(fail) if fail.answer => {
                    self.drop_connection(true);
                    Some(Err(self.message_error(uid, fail.message)))
                }
                Err(fail) => return Err(fail),
            };
            self.alone.pop_front();
            if let Some(item) = item {
                self.ready.insert(uid, item);
            }
            // Else the message was deleted since the search: nothing to read.
            return Ok(true);
        }
        if !self.sized.is_empty() {
            return self.fetch_batch();
        }
        let (folder, frontier, batch_size) = (self.src.folder.clone(), self.frontier, self.src.cfg.batch_size.max(1));
        let uidvalidity = self.src.uidvalidity;
        self.connected()?;
        if self.todo.is_none() {
            let session = self.session.as_mut().expect("connected above");
            let found = session.uids_after_inner(&folder, frontier)?;
            self.todo = Some(found.into());
        }
        let todo = self.todo.as_mut().expect("searched above");
        if todo.is_empty() {
            return Ok(false);
        }
        let batch: Vec<u32> = todo.iter().take(batch_size).copied().collect();
        let session = self.session.as_mut().expect("connected above");
        let sizes = match session.sizes_inner(&folder, uidvalidity, &batch) {
            Ok(sizes) => sizes,
            // The sizes could not be read: each message is fetched alone, never more than the limit.
            Err(fail) if fail.answer => {
                self.drop_connection(true);
                HashMap::new()
            }
            Err(fail) => return Err(fail),
        };
        if let Some(todo) = self.todo.as_mut() {
            todo.drain(..batch.len());
        }
        self.frontier = self.frontier.max(batch.last().copied().unwrap_or(0));
        for uid in batch {
            match sizes.get(&uid) {
                Some(&size) if size > limit => {
                    let err = IngestError::TooLarge { origin: self.src.origin(uid), size, limit };
                    self.ready.insert(uid, Err(err));
                }
                Some(&size) => self.sized.push_back((uid, size)),
                None => self.alone.push_back(uid),
            }
        }
        Ok(true)
    }

    /// Fetch the next batch of sized messages (by count and by bytes); what it does not bring
    /// whole and clean is fetched again one message at a time.
    fn fetch_batch(&mut self) -> Result<bool, Fail> {
        let limit = self.src.max_message_bytes;
        let max = self.src.cfg.batch_size.max(1);
        let mut uids = Vec::new();
        let mut bytes = 0u64;
        for &(uid, size) in self.sized.iter().take(max) {
            if !uids.is_empty() && bytes + size > FETCH_BYTES {
                break;
            }
            uids.push(uid);
            bytes += size;
        }
        let (folder, uidvalidity) = (self.src.folder.clone(), self.src.uidvalidity);
        let session = self.connected()?;
        let got = session.fetch_inner(&folder, uidvalidity, &uids, limit, bytes);
        let (mut bodies, trouble) = match got {
            Ok(batch) => (batch.bodies, batch.trouble),
            Err(fail) if fail.answer => {
                self.drop_connection(true);
                (HashMap::new(), Some(fail.message))
            }
            Err(fail) => return Err(fail),
        };
        self.sized.drain(..uids.len());
        for uid in uids {
            match bodies.remove(&uid) {
                Some((body, size)) => {
                    let item = self.body(uid, body, size);
                    self.ready.insert(uid, item);
                }
                // Missing from a troubled answer: try it alone. From a clean one: deleted.
                None if trouble.is_some() => self.alone.push_back(uid),
                None => {}
            }
        }
        Ok(true)
    }

    /// A fetched body: the message, or an error when it is over the limit.
    fn body(&self, uid: u32, bytes: Vec<u8>, size: Option<u64>) -> Item {
        let limit = self.src.max_message_bytes;
        if bytes.len() as u64 > limit {
            let size = size.filter(|&s| s > limit).unwrap_or(limit.saturating_add(1));
            return Err(IngestError::TooLarge { origin: self.src.origin(uid), size, limit });
        }
        let session = self.session.as_ref();
        Ok(match session {
            Some(s) => s.raw_mail(&self.src.folder, self.src.uidvalidity, uid, bytes),
            None => RawMail {
                origin: self.src.origin(uid),
                bytes,
                checkpoint: self.src.origin(uid).checkpoint(),
            },
        })
    }

    fn message_error(&self, uid: u32, why: String) -> IngestError {
        IngestError::Message {
            origin: self.src.origin(uid),
            message: format!("{why}. The message was skipped and recorded as an error; the messages after it are read"),
        }
    }

    pub(super) fn fill(&mut self) -> Result<bool, IngestError> {
        let mut attempt = 0;
        loop {
            match self.fill_once() {
                Ok(more) => return Ok(more),
                Err(fail) if fail.transient && attempt < self.src.retry.attempts => {
                    self.drop_connection(true);
                    let delay = self.src.retry.delay(attempt);
                    attempt += 1;
                    eprintln!(
                        "rapport: warning: {}: {}; reconnecting in {:.1} s (attempt {attempt} of {}), resuming after UID {}",
                        self.src.cfg.label(),
                        fail.message,
                        delay.as_secs_f64(),
                        self.src.retry.attempts,
                        self.src.last_uid
                    );
                    std::thread::sleep(delay);
                }
                Err(fail) => {
                    self.drop_connection(fail.transient || fail.answer);
                    let message = if fail.transient && attempt > 0 {
                        format!(
                            "{} (gave up after {attempt} reconnection attempts; the messages up to UID {} were delivered)",
                            fail.message, self.src.last_uid
                        )
                    } else {
                        fail.message
                    };
                    return Err(self.src.cfg.error(message));
                }
            }
        }
    }

    /// Forget the connection; log out politely unless it is `broken`.
    pub(super) fn drop_connection(&mut self, broken: bool) {
        if let Some(mut session) = self.session.take() {
            session.broken |= broken;
        }
        self.todo = None;
    }
}

impl Iterator for ImapIter<'_> {
    type Item = Result<RawMail, IngestError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((&uid, _)) = self.ready.first_key_value() {
                if self.in_flight().is_none_or(|first| uid < first) {
                    let item = self.ready.remove(&uid).expect("present");
                    self.src.last_uid = self.src.last_uid.max(uid);
                    return Some(item);
                }
            }
            if self.ready.is_empty() {
                if let Some(e) = self.failed.take() {
                    return Some(Err(e));
                }
            }
            if self.done {
                return None;
            }
            match self.fill() {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    if let Some(session) = self.session.take() {
                        let _ = session.logout();
                    }
                }
                Err(e) => {
                    // What is ready below the first message not dealt with is still handed out,
                    // then the error; nothing above it, so that the folder's mark never passes a
                    // message that was not delivered.
                    self.done = true;
                    if let Some(first) = self.in_flight() {
                        self.ready.retain(|&uid, _| uid < first);
                    }
                    self.sized.clear();
                    self.alone.clear();
                    self.failed = Some(e);
                }
            }
        }
    }
}

/// Which folders of a mailbox a [`ImapMailbox`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderRole {
    /// `folders` from the config, else the SPECIAL-USE `\Sent` folder(s).
    Sent,
    /// `received` from the config.
    Received,
}

/// A [`MailSource`] over the sent (or received) folders of one configured IMAP mailbox. On
/// [`MailSource::resume`] it connects once, finds the folders, EXAMINEs each and compares its
/// UIDVALIDITY with the stored checkpoint: the same value resumes after the stored UID, a changed
/// one reads the whole folder again (results are keyed by Message-ID and content, so a re-scan
/// duplicates nothing). Then it streams the folders one after the other, each an [`ImapSource`].
pub struct ImapMailbox {
    pub(super) cfg: ImapConfig,
    pub(super) role: FolderRole,
    pub(super) max_message_bytes: u64,
    pub(super) retry: Retry,
    pub(super) plan: Vec<ImapSource>,
}

impl ImapMailbox {
    pub fn new(cfg: ImapConfig, role: FolderRole, max_message_bytes: u64) -> Self {
        ImapMailbox { retry: cfg.retry.clone(), cfg, role, max_message_bytes, plan: Vec::new() }
    }

    pub fn with_retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }
}

impl MailSource for ImapMailbox {
    fn describe(&self) -> String {
        match self.role {
            FolderRole::Sent => format!("imap:{}", self.cfg.label()),
            FolderRole::Received => format!("imap:{} (received)", self.cfg.label()),
        }
    }

    fn resume(&mut self, checkpoints: &Checkpoints) -> Result<Vec<String>, IngestError> {
        let mut notices = Vec::new();
        let mut session = ImapSession::connect(&self.cfg)?;
        let folders = match self.role {
            FolderRole::Sent => session.sent_folders()?,
            FolderRole::Received => self.cfg.received.clone(),
        };
        self.plan.clear();
        for folder in folders {
            let status = session.examine(&folder)?;
            let last = match checkpoints.get(&folder_key(&self.cfg.name, &folder)) {
                Some(&(v, uid)) if v == status.uidvalidity => uid,
                Some(&(v, _)) => {
                    notices.push(format!(
                        "{}/{folder}: UIDVALIDITY changed ({v} -> {}): reading the whole folder again",
                        self.cfg.label(),
                        status.uidvalidity
                    ));
                    0
                }
                None => 0,
            };
            self.plan.push(
                ImapSource::new(self.cfg.clone(), folder, status.uidvalidity, last)
                    .with_max_message_bytes(self.max_message_bytes)
                    .with_retry(self.retry.clone()),
            );
        }
        // A failed LOGOUT after the planning is not worth failing the audit over.
        let _ = session.logout();
        Ok(notices)
    }

    fn mails(&mut self) -> MailIter<'_> {
        Box::new(self.plan.iter_mut().flat_map(|s| s.mails()))
    }
}
