//! One logged-in, read-only connection: capabilities, folders, EXAMINE, UID SEARCH and FETCH.
//!
//! The connection is an `imap::Session` (the `imap` crate) over a [`Guard`], which bounds and
//! times every answer and lets only reading commands through (see `guard.rs`). The crate sends
//! and reads CAPABILITY, LOGIN / AUTHENTICATE, LIST, EXAMINE, NOOP, UID SEARCH, the `UID FETCH`
//! of sizes, and LOGOUT.
//!
//! The `UID FETCH` of bodies is the one command read by rapport's own [`Wire`], on the same
//! guarded connection, because the crate cannot isolate one bad message of a batch: its
//! `read_response_onto` (imap 3.0.0-alpha.15, `src/client.rs`) ends the whole answer with an
//! error at the first response `imap-proto` cannot parse, leaving the rest unread, and it turns
//! a tagged NO into `Error::No` and drops the responses that came before it. The [`Wire`] parses
//! each response on its own, so an unreadable response or a NO costs only the messages it
//! concerns (they are fetched again one by one) and the good bodies of the batch are kept.
use super::guard::{guard_fail, Guard};
use super::*;

/// What `EXAMINE` says about a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderStatus {
    /// Changes when the server renumbers the folder; stored UIDs are meaningless after a change.
    pub uidvalidity: u32,
    /// The UID the next message will get (servers must send it; `None` if this one did not).
    pub uidnext: Option<u32>,
    /// The number of messages in the folder.
    pub exists: u32,
}

/// A folder as `LIST` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderInfo {
    /// The UTF-8 name (decoded from modified UTF-7).
    pub name: String,
    /// Marked SPECIAL-USE `\Sent`.
    pub sent: bool,
    /// Can be opened (not `\Noselect` / `\NonExistent`).
    pub selectable: bool,
}

/// One logged-in, read-only IMAP connection. Dropping it logs out.
pub struct ImapSession {
    pub(super) cfg: ImapConfig,
    /// The `imap` crate's session, over the guard.
    pub(super) imap: imap::Session<Guard>,
    /// The same guarded connection: to set each command's budget, and for [`Wire`].
    pub(super) guard: Guard,
    /// Reads `UID FETCH` of bodies on the same connection (see the module doc).
    pub(super) wire: Wire,
    /// The same socket, to shut it down without going through TLS.
    pub(super) socket: TcpStream,
    /// The folder currently EXAMINEd.
    pub(super) current: Option<(String, FolderStatus)>,
    /// The connection failed or is out of step: do not try to log out politely.
    pub(super) broken: bool,
}

impl fmt::Debug for ImapSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapSession")
            .field("server", &self.cfg.server())
            .field("user", &self.cfg.user)
            .field("current", &self.current)
            .finish()
    }
}

/// What one `UID FETCH` of bodies brought.
#[derive(Debug, Default)]
pub(super) struct FetchedBatch {
    /// Each body (at most the partial length asked for), with the size the server gave.
    pub(super) bodies: HashMap<u32, (Vec<u8>, Option<u64>)>,
    /// Why the answer was not clean (a NO, or responses that could not be read): the UIDs it
    /// lacks may be missing for that reason rather than deleted.
    pub(super) trouble: Option<String>,
}

/// The size of a partial fetch that reveals whether a message is over `limit` bytes: one byte
/// more (IMAP's partial lengths are 32-bit).
pub(super) fn partial_len(limit: u64) -> u64 {
    limit.saturating_add(1).min(u64::from(u32::MAX))
}

impl ImapSession {
    /// Connect, secure the connection as `cfg.security` says, and log in.
    pub fn connect(cfg: &ImapConfig) -> Result<Self, IngestError> {
        Self::open(cfg, DEFAULT_MAX_MESSAGE_BYTES).map_err(|f| cfg.error(f.message))
    }

    /// As [`ImapSession::connect`]; message bodies over `max_message_bytes` are never read whole.
    pub(super) fn open(cfg: &ImapConfig, max_message_bytes: u64) -> Result<Self, Fail> {
        let server = cfg.server();
        let deadline = std::time::Instant::now() + cfg.command_timeout;
        let secret = cfg.auth.source().resolve().map_err(|e| {
            Fail::fatal(format!(
                "cannot get the {} for user `{}` from {}: {e}",
                cfg.auth.what(),
                cfg.user,
                cfg.auth.source()
            ))
        })?;
        let tcp = tcp_connect(cfg)?;
        let socket = tcp.try_clone().map_err(|e| io_fail(&server, "connecting", &e))?;
        let (stream, greeting_read) = match cfg.security {
            Security::Tls => (tls_handshake(cfg, tcp, deadline)?, false),
            Security::StartTls => (tls_handshake(cfg, starttls(cfg, tcp, deadline)?, deadline)?, true),
            Security::Plaintext => {
                eprintln!(
                    "rapport: warning: {}: connecting to {server} WITHOUT encryption (security = \"plaintext\"): the password and every message cross the network readable by anyone on the way",
                    cfg.label()
                );
                (Stream::Plain(tcp), false)
            }
        };
        let guard_socket = socket.try_clone().map_err(|e| io_fail(&server, "connecting", &e))?;
        let limits = Limits::new(cfg, partial_len(max_message_bytes));
        let guard = Guard::new(Box::new(wire::Net { stream, socket: guard_socket }), server.clone(), limits.clone(), !greeting_read);
        let wire = Wire::over(Box::new(guard.clone()), server.clone(), limits);
        let mut client = imap::Client::new(guard.clone());
        if !greeting_read {
            let greeting = client.read_greeting().map_err(|e| crate_fail(&server, &guard, e, "waiting for its greeting"))?;
            check_greeting(&server, String::from_utf8_lossy(&greeting).trim_end())?;
        }
        guard.prepare("logging in", DEFAULT_BUDGET);
        let logged_in = match &cfg.auth {
            Auth::Password(_) => {
                if quote(&cfg.user).is_none() || quote(secret.expose()).is_none() {
                    return Err(Fail::fatal(format!(
                        "the user name or the {} from {} contains a line break, which IMAP cannot send. Check `user` and what {} gives",
                        cfg.auth.what(),
                        cfg.auth.source(),
                        cfg.auth.source()
                    )));
                }
                client.login(&cfg.user, secret.expose())
            }
            Auth::XOAuth2(_) => {
                let xoauth2 = XOAuth2 { user: &cfg.user, token: secret.expose(), answered: std::cell::Cell::new(false) };
                client.authenticate("XOAUTH2", &xoauth2)
            }
        };
        let imap = match logged_in {
            Ok(imap) => imap,
            Err((imap::Error::No(no), _)) => {
                return Err(Fail::fatal(format!(
                    "{server} refused the login of user `{}`: \"{}\". Check `user`, and the {} that {} gives{}",
                    cfg.user,
                    no.information,
                    cfg.auth.what(),
                    cfg.auth.source(),
                    if matches!(cfg.auth, Auth::XOAuth2(_)) {
                        " (access tokens expire after about an hour: it must print a fresh one, for this user)"
                    } else {
                        ""
                    }
                )))
            }
            Err((imap::Error::Bad(bad), _)) => {
                return Err(Fail::fatal(format!(
                    "{server} rejected the login of user `{}` as malformed: \"{}\". Check `user`{}",
                    cfg.user,
                    bad.information,
                    if matches!(cfg.auth, Auth::XOAuth2(_)) { ", and that this server supports XOAUTH2" } else { "" }
                )))
            }
            Err((e, _)) => return Err(crate_fail(&server, &guard, e, "logging in")),
        };
        Ok(ImapSession { cfg: cfg.clone(), imap, guard, wire, socket, current: None, broken: false })
    }

    /// The account this session belongs to.
    pub fn config(&self) -> &ImapConfig {
        &self.cfg
    }

    pub(super) fn wrap<T>(&mut self, r: Result<T, Fail>) -> Result<T, IngestError> {
        r.map_err(|f| {
            if f.transient || f.answer {
                self.broken = true;
            }
            self.cfg.error(f.message)
        })
    }

    /// Run one command of the `imap` crate with `bytes` of answer and the command deadline. A
    /// tagged NO comes back as `Ok(Err(no))`; any other failure is a [`Fail`], and one on the
    /// way (the connection, or an answer refused or unreadable) marks the connection broken.
    pub(super) fn call_or_no<T>(&mut self, doing: &str, bytes: u64, f: impl FnOnce(&mut imap::Session<Guard>) -> imap::error::Result<T>) -> Result<Result<T, imap::error::No>, Fail> {
        self.guard.prepare(doing, bytes);
        let r = f(&mut self.imap);
        // Unsolicited responses (EXISTS, EXPUNGE...) tell rapport nothing it uses.
        self.imap.take_all_unsolicited().for_each(drop);
        match r {
            Ok(v) => Ok(Ok(v)),
            Err(imap::Error::No(no)) => Ok(Err(no)),
            Err(e) => {
                let f = crate_fail(&self.cfg.server(), &self.guard, e, doing);
                if f.transient || f.answer {
                    self.broken = true;
                    self.current = None;
                }
                Err(f)
            }
        }
    }

    /// As [`ImapSession::call_or_no`], and a NO is an error.
    pub(super) fn call<T>(&mut self, doing: &str, f: impl FnOnce(&mut imap::Session<Guard>) -> imap::error::Result<T>) -> Result<T, Fail> {
        self.call_or_no(doing, DEFAULT_BUDGET, f)?
            .map_err(|no| Fail::fatal(format!("{} refused while {doing}: \"{}\"", self.cfg.server(), no.information)))
    }

    /// Send a command on the [`Wire`] and read its answer; a failure on the way marks the
    /// connection broken.
    pub(super) fn run(&mut self, command: &str, doing: &str, budget: u64) -> Result<Answer, Fail> {
        self.guard.prepare(doing, budget);
        let r = self.wire.command(command, doing, budget);
        if let Err(f) = &r {
            if f.transient || f.answer {
                self.broken = true;
                self.current = None;
            }
        }
        r
    }

    /// Every folder on the server (`LIST "" "*"`), with its SPECIAL-USE `\Sent` mark.
    pub fn folders(&mut self) -> Result<Vec<FolderInfo>, IngestError> {
        let r = self.list_folders();
        self.wrap(r)
    }

    pub(super) fn list_folders(&mut self) -> Result<Vec<FolderInfo>, Fail> {
        let names = self.call("listing folders", |s| s.list(Some(""), Some("*")))?;
        use imap_proto::NameAttribute as A;
        let mut folders: Vec<FolderInfo> = names
            .iter()
            .map(|n| {
                let attrs = n.attributes();
                let is = |flag: &str| attrs.iter().any(|a| matches!(a, A::Extension(e) if e.eq_ignore_ascii_case(flag)));
                FolderInfo {
                    name: utf7::decode(n.name()).unwrap_or_else(|| n.name().to_string()),
                    sent: attrs.iter().any(|a| matches!(a, A::Sent)) || is("\\Sent"),
                    selectable: !attrs.iter().any(|a| matches!(a, A::NoSelect)) && !is("\\NoSelect") && !is("\\NonExistent"),
                }
            })
            .collect();
        folders.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(folders)
    }

    /// `LIST (SPECIAL-USE) "" "*"` (RFC 6154), for servers that only show the attributes when
    /// asked this way.
    pub(super) fn special_use_sent(&mut self) -> Result<Vec<String>, Fail> {
        // The crate's `list` has no selection options: the command is sent as it is, and its
        // answer parsed here.
        let raw = self.call("listing SPECIAL-USE folders", |s| s.run_command_and_read_response("LIST (SPECIAL-USE) \"\" \"*\""))?;
        let mut sent = Vec::new();
        let mut rest = &raw[..];
        while let Ok((left, r)) = imap_proto::parser::parse_response(rest) {
            if let imap_proto::Response::MailboxData(imap_proto::MailboxDatum::List { name_attributes, name, .. }) = r {
                if name_attributes.iter().any(|a| {
                    matches!(a, imap_proto::NameAttribute::Sent)
                        || matches!(a, imap_proto::NameAttribute::Extension(e) if e.eq_ignore_ascii_case("\\Sent"))
                }) {
                    sent.push(utf7::decode(&name).unwrap_or_else(|| name.to_string()));
                }
            }
            if left.len() == rest.len() {
                break;
            }
            rest = left;
        }
        Ok(sent)
    }

    /// The server's capabilities, upper-cased.
    pub(super) fn capabilities(&mut self) -> Result<Vec<String>, Fail> {
        let list = self.call("asking for its capabilities", |s| s.capabilities())?;
        let caps = list
            .iter()
            .map(|c| match c {
                imap_proto::Capability::Imap4rev1 => "IMAP4REV1".to_string(),
                imap_proto::Capability::Auth(a) => format!("AUTH={}", a.to_ascii_uppercase()),
                imap_proto::Capability::Atom(a) => a.to_ascii_uppercase(),
            })
            .collect();
        Ok(caps)
    }

    /// The folders to audit: the configured `folders`, or else the folder(s) the server marks
    /// SPECIAL-USE `\Sent`. An error (listing the server's folders) when there is none.
    pub fn sent_folders(&mut self) -> Result<Vec<String>, IngestError> {
        if !self.cfg.folders.is_empty() {
            return Ok(self.cfg.folders.clone());
        }
        let r = self.find_sent();
        self.wrap(r)
    }

    pub(super) fn find_sent(&mut self) -> Result<Vec<String>, Fail> {
        let folders = self.list_folders()?;
        let mut sent: Vec<String> = folders
            .iter()
            .filter(|f| f.sent && f.selectable)
            .map(|f| f.name.clone())
            .collect();
        if sent.is_empty() && self.capabilities()?.iter().any(|c| c == "SPECIAL-USE") {
            sent = self.special_use_sent()?;
        }
        if sent.is_empty() {
            let guess = folders
                .iter()
                .find(|f| {
                    let lower = f.name.to_lowercase();
                    f.selectable
                        && (lower.ends_with("sent")
                            || lower.contains("sent items")
                            || lower.contains("sent mail")
                            || lower.contains("sent messages"))
                })
                .map(|f| format!(" (`{}` looks like it)", f.name))
                .unwrap_or_default();
            return Err(Fail::fatal(format!(
                "no folder on {} is marked as the Sent folder (SPECIAL-USE \\Sent). Name it in the config, e.g. folders = [\"Sent\"]{guess}. The folders are: {}",
                self.cfg.server(),
                folder_list(&folders)
            )));
        }
        Ok(sent)
    }

    /// Open `folder` read-only (`EXAMINE`) and return its UIDVALIDITY, UIDNEXT and size. A folder
    /// that does not exist is an error that lists the folders that do.
    pub fn examine(&mut self, folder: &str) -> Result<FolderStatus, IngestError> {
        let r = self.examine_inner(folder);
        self.wrap(r)
    }

    pub(super) fn examine_inner(&mut self, folder: &str) -> Result<FolderStatus, Fail> {
        self.current = None;
        let encoded = utf7::encode(folder);
        if quote(&encoded).is_none() {
            return Err(Fail::fatal(format!("the folder name `{}` contains a line break. Fix `folders` in the config", folder.escape_debug())));
        }
        let doing = format!("opening folder `{folder}`");
        let answer = self.call_or_no(&doing, DEFAULT_BUDGET, |s| s.examine(&encoded))?;
        let mailbox = match answer {
            Ok(mailbox) => mailbox,
            Err(no) => {
                let listing = match self.list_folders() {
                Ok(folders) => {
                    let similar = folders
                        .iter()
                        .find(|f| {
                            f.name.eq_ignore_ascii_case(folder)
                                || f.name.ends_with(&format!(".{folder}"))
                                || f.name.ends_with(&format!("/{folder}"))
                        })
                        .map(|f| format!(" Did you mean `{}`?", f.name))
                        .unwrap_or_default();
                    format!("The folders on this server are: {}.{similar}", folder_list(&folders))
                }
                Err(e) => format!("(Listing the folders failed too: {})", e.message),
            };
            return Err(Fail::fatal(format!(
                "cannot open folder `{folder}` on {}: the server said \"{}\". {listing} Fix `folders` in the config",
                self.cfg.server(),
                no.information
            )));
            }
        };
        let (uidvalidity, uidnext, exists) = (mailbox.uid_validity, mailbox.uid_next, mailbox.exists);
        let uidvalidity = uidvalidity.ok_or_else(|| {
            Fail::fatal(format!(
                "{} sent no UIDVALIDITY for folder `{folder}`, so rapport cannot remember which messages it has read there",
                self.cfg.server()
            ))
        })?;
        let status = FolderStatus { uidvalidity, uidnext, exists };
        self.current = Some((folder.to_string(), status));
        Ok(status)
    }

    pub(super) fn ensure(&mut self, folder: &str) -> Result<FolderStatus, Fail> {
        match &self.current {
            Some((name, status)) if name == folder => Ok(*status),
            _ => self.examine_inner(folder),
        }
    }

    /// The UIDs in `folder` above `last_uid`, ascending (`UID SEARCH UID last+1:*`, without the
    /// highest UID that `n:*` always matches).
    pub fn uids_after(&mut self, folder: &str, last_uid: u32) -> Result<Vec<u32>, IngestError> {
        let r = self.uids_after_inner(folder, last_uid);
        self.wrap(r)
    }

    pub(super) fn uids_after_inner(&mut self, folder: &str, last_uid: u32) -> Result<Vec<u32>, Fail> {
        self.ensure(folder)?;
        let Some(first) = last_uid.checked_add(1) else {
            return Ok(Vec::new());
        };
        // NOOP first: Dovecot (like most servers) reports messages that arrived since the last
        // command only at the end of a command, and a search sees only what was reported.
        self.call(&format!("checking folder `{folder}` for new messages"), |s| s.noop())?;
        let found = self.call(&format!("searching folder `{folder}`"), |s| s.uid_search(format!("UID {first}:*")))?;
        let mut uids: Vec<u32> = found.into_iter().filter(|&uid| uid > last_uid).collect();
        uids.sort_unstable();
        uids.dedup();
        Ok(uids)
    }

    /// The sizes (RFC822.SIZE) of the given messages, by UID.
    pub fn sizes(&mut self, folder: &str, uidvalidity: u32, uids: &[u32]) -> Result<HashMap<u32, u64>, IngestError> {
        let r = self.sizes_inner(folder, uidvalidity, uids);
        self.wrap(r)
    }

    pub(super) fn check_uidvalidity(&mut self, folder: &str, uidvalidity: u32) -> Result<(), Fail> {
        let status = self.ensure(folder)?;
        if status.uidvalidity != uidvalidity {
            return Err(Fail::fatal(uidvalidity_changed(folder, uidvalidity, status.uidvalidity)));
        }
        Ok(())
    }

    /// Sizes the server gives; a UID it says nothing readable about is left out (its message is
    /// then fetched alone, never more than the limit).
    pub(super) fn sizes_inner(&mut self, folder: &str, uidvalidity: u32, uids: &[u32]) -> Result<HashMap<u32, u64>, Fail> {
        if uids.is_empty() {
            return Ok(HashMap::new());
        }
        self.check_uidvalidity(folder, uidvalidity)?;
        let wanted: HashSet<u32> = uids.iter().copied().collect();
        let budget = 1024 * uids.len() as u64 + (1 << 20);
        let set = uid_set(uids);
        let fetches = self.call_or_no(&format!("reading message sizes in folder `{folder}`"), budget, |s| s.uid_fetch(&set, "(UID RFC822.SIZE)"))?;
        let mut sizes = HashMap::new();
        // A NO: the sizes are unknown, and each message is fetched alone.
        for f in fetches.iter().flat_map(|f| f.iter()) {
            if let (Some(uid), Some(size)) = (f.uid, f.size) {
                if wanted.contains(&uid) {
                    sizes.insert(uid, u64::from(size));
                }
            }
        }
        Ok(sizes)
    }

    /// Fetch the given messages in one `UID FETCH … (UID BODY.PEEK[])`, in the order of `uids`.
    /// `uidvalidity` must still be the folder's (else an error: the UIDs mean other messages
    /// now). Messages deleted meanwhile are left out; a message over the limit of
    /// [`crate::source::DEFAULT_MAX_MESSAGE_BYTES`], or an answer rapport cannot read, is an error.
    pub fn fetch(&mut self, folder: &str, uidvalidity: u32, uids: &[u32]) -> Result<Vec<RawMail>, IngestError> {
        let r = self.fetch_inner(folder, uidvalidity, uids, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_MESSAGE_BYTES);
        let mut batch = self.wrap(r)?;
        if let Some(trouble) = batch.trouble {
            return Err(self.cfg.error(trouble));
        }
        let mut out = Vec::new();
        for uid in uids {
            if let Some((bytes, size)) = batch.bodies.remove(uid) {
                if bytes.len() as u64 > DEFAULT_MAX_MESSAGE_BYTES {
                    let origin = self.origin(folder, uidvalidity, *uid);
                    return Err(IngestError::TooLarge { origin, size: size.unwrap_or(bytes.len() as u64), limit: DEFAULT_MAX_MESSAGE_BYTES });
                }
                out.push(self.raw_mail(folder, uidvalidity, *uid, bytes));
            }
        }
        Ok(out)
    }

    pub(super) fn origin(&self, folder: &str, uidvalidity: u32, uid: u32) -> SourceRef {
        SourceRef::Imap { mailbox: self.cfg.name.clone(), folder: folder.to_string(), uidvalidity, uid }
    }

    pub(super) fn raw_mail(&self, folder: &str, uidvalidity: u32, uid: u32, bytes: Vec<u8>) -> RawMail {
        RawMail {
            origin: self.origin(folder, uidvalidity, uid),
            bytes,
            checkpoint: Some(Checkpoint { key: folder_key(&self.cfg.name, folder), epoch: uidvalidity, mark: uid }),
        }
    }

    /// `UID FETCH uids (UID RFC822.SIZE BODY.PEEK[]<0.n>)`, `n` one byte over `limit`: no body
    /// comes whole when it is over the limit. `expected` is what the bodies should add up to
    /// (from their sizes); the server may send a little more, never much more.
    pub(super) fn fetch_inner(&mut self, folder: &str, uidvalidity: u32, uids: &[u32], limit: u64, expected: u64) -> Result<FetchedBatch, Fail> {
        if uids.is_empty() {
            return Ok(FetchedBatch::default());
        }
        self.check_uidvalidity(folder, uidvalidity)?;
        let wanted: HashSet<u32> = uids.iter().copied().collect();
        let partial = partial_len(limit);
        let budget = expected.min(partial.saturating_mul(uids.len() as u64)).saturating_add(4096 * uids.len() as u64 + (1 << 16));
        let doing = if uids.len() == 1 {
            format!("reading message UID {} from folder `{folder}`", uids[0])
        } else {
            format!("reading {} messages from folder `{folder}`", uids.len())
        };
        let answer = self.run(&format!("UID FETCH {} (UID RFC822.SIZE BODY.PEEK[]<0.{partial}>)", uid_set(uids)), &doing, budget)?;
        let mut batch = FetchedBatch::default();
        for r in answer.responses() {
            if let imap_proto::Response::Fetch(_, attrs) = r {
                let mut uid = None;
                let mut size = None;
                let mut body = None;
                for a in attrs {
                    match a {
                        imap_proto::AttributeValue::Uid(u) => uid = Some(u),
                        imap_proto::AttributeValue::Rfc822Size(s) => size = Some(u64::from(s)),
                        imap_proto::AttributeValue::BodySection { section: None, index: None | Some(0), data } => {
                            body = Some(data.map(|d| d.into_owned()).unwrap_or_default())
                        }
                        _ => {}
                    }
                }
                if let (Some(uid), Some(body)) = (uid, body) {
                    if wanted.contains(&uid) {
                        batch.bodies.insert(uid, (body, size));
                    }
                }
            }
        }
        if answer.unreadable > 0 {
            batch.trouble = Some(format!(
                "{} answered with something rapport cannot read while {doing} (\"{}\")",
                self.cfg.server(),
                answer.first_unreadable.clone().unwrap_or_default()
            ));
        } else if !answer.ok() {
            batch.trouble = Some(format!("{} refused while {doing}: \"{}\"", self.cfg.server(), answer.text));
        }
        Ok(batch)
    }

    /// Log out politely.
    pub fn logout(mut self) -> Result<(), IngestError> {
        self.broken = true; // Drop must not log out a second time
        let r = self.call("logging out", |s| s.logout());
        self.wrap(r)
    }
}

impl Drop for ImapSession {
    fn drop(&mut self) {
        if !self.broken {
            self.guard.set_command_timeout(Duration::from_secs(2));
            self.guard.prepare("logging out", 1 << 16);
            let _ = self.imap.logout();
        }
        let _ = self.socket.shutdown(Shutdown::Both);
    }
}

/// What an error of the `imap` crate means, as rapport says it: the guard's own refusals (in
/// `Error::Io`) as they are, a NO or BAD of the command, an answer that could not be read.
pub(super) fn crate_fail(server: &str, guard: &Guard, e: imap::Error, doing: &str) -> Fail {
    match e {
        imap::Error::Io(e) => guard_fail(&e).unwrap_or_else(|| io_fail(server, doing, &e)),
        imap::Error::ConnectionLost => Fail::transient(format!("{server} closed the connection while {doing}")),
        imap::Error::No(no) => Fail::fatal(format!("{server} refused while {doing}: \"{}\"", no.information)),
        imap::Error::Bad(bad) => Fail::fatal(format!(
            "{server} rejected a command while {doing}: \"{}\". This is a bug in rapport or a server it does not support; please report it",
            bad.information
        )),
        // The crate reports a response it cannot parse as a BYE without code (`read_response_onto`).
        imap::Error::Bye(bye) if bye.code.is_some() || bye.information != "no explanation given" => {
            Fail::transient(format!("{server} ended the session while {doing}: \"{}\"", bye.information))
        }
        imap::Error::Validate(v) => Fail::fatal(format!("rapport could not send a command while {doing}: {v} (this is a bug in rapport; please report it)")),
        _ => Fail::answer(format!(
            "{server} answered with something rapport cannot read while {doing} (\"{}\")",
            guard.last_response()
        )),
    }
}

pub(super) fn uidvalidity_changed(folder: &str, expected: u32, now: u32) -> String {
    format!(
        "the UIDVALIDITY of folder `{folder}` changed from {expected} to {now}: the server renumbered its messages, so the UIDs rapport remembers no longer identify them. The folder must be read again from the start"
    )
}

pub(super) fn folder_list(folders: &[FolderInfo]) -> String {
    let names: Vec<String> = folders
        .iter()
        .filter(|f| f.selectable)
        .map(|f| format!("`{}`", f.name))
        .collect();
    if names.is_empty() {
        "(none)".to_string()
    } else {
        names.join(", ")
    }
}

/// `1:3,7,9:10` for [1, 2, 3, 7, 9, 10] (any order in, ascending ranges out).
pub(super) fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// The state's key of an IMAP folder's checkpoint.
pub fn folder_key(mailbox: &str, folder: &str) -> String {
    format!("{mailbox}/{folder}")
}
