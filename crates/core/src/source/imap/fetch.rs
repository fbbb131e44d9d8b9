//! The streaming [`MailSource`] over one folder, with reconnects and back-off.
use super::*;

/// How [`ImapSource`] reconnects after the connection drops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// Reconnection attempts after a failure before giving up (0: never reconnect).
    pub attempts: u32,
    /// Wait before the first attempt; doubled before each next one.
    pub first_delay: Duration,
}

impl Default for Retry {
    /// 3 attempts, after 0.5 s, 1 s and 2 s.
    fn default() -> Self {
        Retry {
            attempts: 3,
            first_delay: Duration::from_millis(500),
        }
    }
}

/// A [`MailSource`] over one IMAP folder: the messages whose UID is above `last_uid`, in UID
/// order, fetched `batch_size` at a time. The connection is opened on the first pull. When it
/// drops, the source reconnects (see [`Retry`]), checks that UIDVALIDITY is still the expected
/// one, and resumes after the last UID it delivered: every message comes exactly once. A changed
/// UIDVALIDITY, a refused login or a bad certificate end the stream with one `Err`. Messages over
/// the size limit are one `Err` each ([`IngestError::TooLarge`]) and are not downloaded.
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
            cfg,
            folder,
            uidvalidity,
            last_uid,
            retry: Retry::default(),
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
}

impl MailSource for ImapSource {
    fn describe(&self) -> String {
        format!("imap:{}/{}", self.cfg.label(), self.folder)
    }

    fn mails(&mut self) -> MailIter<'_> {
        Box::new(ImapIter {
            src: self,
            session: None,
            pending: None,
            ready: VecDeque::new(),
            done: false,
        })
    }
}

pub(super) struct ImapIter<'a> {
    pub(super) src: &'a mut ImapSource,
    pub(super) session: Option<ImapSession>,
    /// UIDs still to fetch (known since the last search on this connection).
    pub(super) pending: Option<VecDeque<u32>>,
    /// Fetched, not yet handed out: (uid, item).
    pub(super) ready: VecDeque<(u32, Result<RawMail, IngestError>)>,
    pub(super) done: bool,
}

impl ImapIter<'_> {
    /// Fetch the next batch into `ready`. `Ok(false)`: nothing left.
    pub(super) fn fill_once(&mut self) -> Result<bool, Fail> {
        let src = &*self.src;
        if self.session.is_none() {
            self.pending = None;
            let mut session = ImapSession::open(&src.cfg)?;
            let status = session.examine_inner(&src.folder)?;
            if status.uidvalidity != src.uidvalidity {
                let message = uidvalidity_changed(&src.folder, src.uidvalidity, status.uidvalidity);
                self.src.changed_uidvalidity = Some(status.uidvalidity);
                return Err(Fail::fatal(message));
            }
            self.session = Some(session);
        }
        let session = self.session.as_mut().expect("connected above");
        if self.pending.is_none() {
            self.pending = Some(session.uids_after_inner(&src.folder, src.last_uid)?.into());
        }
        let pending = self.pending.as_mut().expect("searched above");
        if pending.is_empty() {
            return Ok(false);
        }
        let batch: Vec<u32> = pending
            .iter()
            .take(src.cfg.batch_size.max(1))
            .copied()
            .collect();
        let sizes = session.sizes_inner(&src.folder, src.uidvalidity, &batch)?;
        let small: Vec<u32> = batch
            .iter()
            .copied()
            .filter(|uid| {
                sizes
                    .get(uid)
                    .is_none_or(|&size| size <= src.max_message_bytes)
            })
            .collect();
        let mut mails: HashMap<u32, RawMail> = session
            .fetch_inner(&src.folder, src.uidvalidity, &small)?
            .into_iter()
            .map(|m| match m.origin {
                SourceRef::Imap { uid, .. } => (uid, m),
                _ => unreachable!("fetch returns IMAP origins"),
            })
            .collect();
        for uid in &batch {
            let origin = || SourceRef::Imap {
                mailbox: src.cfg.name.clone(),
                folder: src.folder.clone(),
                uidvalidity: src.uidvalidity,
                uid: *uid,
            };
            if let Some(mail) = mails.remove(uid) {
                self.ready.push_back((*uid, Ok(mail)));
            } else if let Some(&size) = sizes.get(uid).filter(|&&size| size > src.max_message_bytes)
            {
                self.ready.push_back((
                    *uid,
                    Err(IngestError::TooLarge {
                        origin: origin(),
                        size,
                        limit: src.max_message_bytes,
                    }),
                ));
            }
            // Else the message was deleted since the search: nothing to read.
        }
        pending.drain(..batch.len());
        Ok(true)
    }

    pub(super) fn fill(&mut self) -> Result<bool, IngestError> {
        let mut attempt = 0;
        loop {
            match self.fill_once() {
                Ok(more) => return Ok(more),
                Err(fail) if fail.transient && attempt < self.src.retry.attempts => {
                    self.drop_connection(true);
                    let delay = self.src.retry.first_delay * 2u32.saturating_pow(attempt);
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
                    self.drop_connection(fail.transient);
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
        self.pending = None;
    }
}

impl Iterator for ImapIter<'_> {
    type Item = Result<RawMail, IngestError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((uid, item)) = self.ready.pop_front() {
                self.src.last_uid = self.src.last_uid.max(uid);
                return Some(item);
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
                    self.done = true;
                    return Some(Err(e));
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
        ImapMailbox { cfg, role, max_message_bytes, retry: Retry::default(), plan: Vec::new() }
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
