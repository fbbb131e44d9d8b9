//! One logged-in, read-only connection: capabilities, folders, EXAMINE, UID SEARCH and FETCH.
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
    pub(super) session: imap::Session<Stream>,
    /// The same socket, to shut it down without going through TLS.
    pub(super) socket: TcpStream,
    /// The folder currently EXAMINEd.
    pub(super) current: Option<(String, FolderStatus)>,
    /// The connection failed: do not try to log out politely.
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

impl ImapSession {
    /// Connect, secure the connection as `cfg.security` says, and log in.
    pub fn connect(cfg: &ImapConfig) -> Result<Self, IngestError> {
        Self::open(cfg).map_err(|f| cfg.error(f.message))
    }

    pub(super) fn open(cfg: &ImapConfig) -> Result<Self, Fail> {
        let server = cfg.server();
        let secret = cfg.auth.source().resolve().map_err(|e| {
            Fail::fatal(format!(
                "cannot get the {} for user `{}` from {}: {e}",
                cfg.auth.what(),
                cfg.user,
                cfg.auth.source()
            ))
        })?;
        let tcp = tcp_connect(cfg)?;
        let socket = tcp
            .try_clone()
            .map_err(|e| io_fail(&server, "connecting", &e))?;
        let (stream, greeting_read) = match cfg.security {
            Security::Tls => (tls_handshake(cfg, tcp)?, false),
            Security::StartTls => (tls_handshake(cfg, starttls(cfg, tcp)?)?, true),
            Security::Plaintext => {
                eprintln!(
                    "rapport: warning: {}: connecting to {server} WITHOUT encryption (security = \"plaintext\"): the password and every message cross the network readable by anyone on the way",
                    cfg.label()
                );
                (Stream::Plain(tcp), false)
            }
        };
        let mut client = imap::Client::new(stream);
        if greeting_read {
            client.greeting_read = true;
        } else {
            let greeting = client
                .read_greeting()
                .map_err(|e| protocol_fail(&server, "waiting for its greeting", e))?;
            check_greeting(&server, String::from_utf8_lossy(&greeting).trim_end())?;
        }
        let login = match &cfg.auth {
            Auth::Password(_) => client.login(&cfg.user, secret.expose()),
            Auth::XOAuth2(_) => client.authenticate(
                "XOAUTH2",
                &XOAuth2 {
                    user: &cfg.user,
                    token: secret.expose(),
                    answered: std::cell::Cell::new(false),
                },
            ),
        };
        let session = login.map_err(|(e, _client)| match e {
            imap::Error::No(no) => Fail::fatal(format!(
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
            )),
            imap::Error::Bad(bad) => Fail::fatal(format!(
                "{server} rejected the login of user `{}` as malformed: \"{}\". Check `user`{}",
                cfg.user,
                bad.information,
                if matches!(cfg.auth, Auth::XOAuth2(_)) {
                    ", and that this server supports XOAUTH2"
                } else {
                    ""
                }
            )),
            imap::Error::Validate(_) => Fail::fatal(format!(
                "the user name or the {} from {} contains a line break, which IMAP cannot send. Check `user` and what {} gives",
                cfg.auth.what(),
                cfg.auth.source(),
                cfg.auth.source()
            )),
            other => protocol_fail(&server, "logging in", other),
        })?;
        Ok(ImapSession {
            cfg: cfg.clone(),
            session,
            socket,
            current: None,
            broken: false,
        })
    }

    /// The account this session belongs to.
    pub fn config(&self) -> &ImapConfig {
        &self.cfg
    }

    pub(super) fn wrap<T>(&mut self, r: Result<T, Fail>) -> Result<T, IngestError> {
        r.map_err(|f| {
            if f.transient {
                self.broken = true;
            }
            self.cfg.error(f.message)
        })
    }

    pub(super) fn track<T>(&mut self, doing: &str, r: imap::Result<T>) -> Result<T, Fail> {
        r.map_err(|e| {
            let fail = protocol_fail(&self.cfg.server(), doing, e);
            if fail.transient {
                self.broken = true;
                self.current = None;
            }
            fail
        })
    }

    /// Every folder on the server (`LIST "" "*"`), with its SPECIAL-USE `\Sent` mark.
    pub fn folders(&mut self) -> Result<Vec<FolderInfo>, IngestError> {
        let r = self.list_folders();
        self.wrap(r)
    }

    pub(super) fn list_folders(&mut self) -> Result<Vec<FolderInfo>, Fail> {
        let names = self.session.list(Some(""), Some("*"));
        let names = self.track("listing folders", names)?;
        use imap_proto::NameAttribute as A;
        let mut folders: Vec<FolderInfo> = names
            .iter()
            .map(|n| {
                let attrs = n.attributes();
                let is = |flag: &str| {
                    attrs
                        .iter()
                        .any(|a| matches!(a, A::Extension(e) if e.eq_ignore_ascii_case(flag)))
                };
                FolderInfo {
                    name: utf7::decode(n.name()).unwrap_or_else(|| n.name().to_string()),
                    sent: attrs.iter().any(|a| matches!(a, A::Sent)) || is("\\Sent"),
                    selectable: !attrs.iter().any(|a| matches!(a, A::NoSelect))
                        && !is("\\NoSelect")
                        && !is("\\NonExistent"),
                }
            })
            .collect();
        folders.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(folders)
    }

    /// `LIST (SPECIAL-USE) "" "*"` (RFC 6154), for servers that only show the attributes when
    /// asked this way.
    pub(super) fn special_use_sent(&mut self) -> Result<Vec<String>, Fail> {
        let raw = self
            .session
            .run_command_and_read_response("LIST (SPECIAL-USE) \"\" \"*\"");
        let raw = self.track("listing SPECIAL-USE folders", raw)?;
        let mut rest = &raw[..];
        let mut sent = Vec::new();
        while !rest.is_empty() {
            match imap_proto::parser::parse_response(rest) {
                Ok((
                    next,
                    imap_proto::Response::MailboxData(imap_proto::MailboxDatum::List {
                        name_attributes,
                        name,
                        ..
                    }),
                )) => {
                    if name_attributes.iter().any(|a| {
                        matches!(a, imap_proto::NameAttribute::Sent)
                            || matches!(a, imap_proto::NameAttribute::Extension(e) if e.eq_ignore_ascii_case("\\Sent"))
                    }) {
                        sent.push(utf7::decode(&name).unwrap_or_else(|| name.to_string()));
                    }
                    rest = next;
                }
                Ok((next, _other)) => rest = next,
                Err(_) => break,
            }
        }
        Ok(sent)
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
        if sent.is_empty() {
            let caps = self.session.capabilities();
            let caps = self.track("asking for its capabilities", caps)?;
            if caps.has_str("SPECIAL-USE") {
                sent = self.special_use_sent()?;
            }
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
        let mailbox = match self.session.examine(utf7::encode(folder)) {
            Ok(mailbox) => mailbox,
            Err(imap::Error::No(no)) => {
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
                        format!(
                            "The folders on this server are: {}.{similar}",
                            folder_list(&folders)
                        )
                    }
                    Err(e) => format!("(Listing the folders failed too: {})", e.message),
                };
                return Err(Fail::fatal(format!(
                    "cannot open folder `{folder}` on {}: the server said \"{}\". {listing} Fix `folders` in the config",
                    self.cfg.server(),
                    no.information
                )));
            }
            Err(e) => {
                return Err(self
                    .track::<()>(&format!("opening folder `{folder}`"), Err(e))
                    .unwrap_err())
            }
        };
        let uidvalidity = mailbox.uid_validity.ok_or_else(|| {
            Fail::fatal(format!(
                "{} sent no UIDVALIDITY for folder `{folder}`, so rapport cannot remember which messages it has read there",
                self.cfg.server()
            ))
        })?;
        let status = FolderStatus {
            uidvalidity,
            uidnext: mailbox.uid_next,
            exists: mailbox.exists,
        };
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
        let noop = self.session.noop();
        self.track(
            &format!("checking folder `{folder}` for new messages"),
            noop,
        )?;
        let found = self.session.uid_search(format!("UID {first}:*"));
        let found = self.track(&format!("searching folder `{folder}`"), found)?;
        let mut uids: Vec<u32> = found.into_iter().filter(|&uid| uid > last_uid).collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// The sizes (RFC822.SIZE) of the given messages, by UID.
    pub fn sizes(
        &mut self,
        folder: &str,
        uidvalidity: u32,
        uids: &[u32],
    ) -> Result<HashMap<u32, u64>, IngestError> {
        let r = self.sizes_inner(folder, uidvalidity, uids);
        self.wrap(r)
    }

    pub(super) fn check_uidvalidity(&mut self, folder: &str, uidvalidity: u32) -> Result<(), Fail> {
        let status = self.ensure(folder)?;
        if status.uidvalidity != uidvalidity {
            return Err(Fail::fatal(uidvalidity_changed(
                folder,
                uidvalidity,
                status.uidvalidity,
            )));
        }
        Ok(())
    }

    pub(super) fn sizes_inner(
        &mut self,
        folder: &str,
        uidvalidity: u32,
        uids: &[u32],
    ) -> Result<HashMap<u32, u64>, Fail> {
        if uids.is_empty() {
            return Ok(HashMap::new());
        }
        self.check_uidvalidity(folder, uidvalidity)?;
        let wanted: HashSet<u32> = uids.iter().copied().collect();
        let fetched = self.session.uid_fetch(uid_set(uids), "(UID RFC822.SIZE)");
        let fetched = self.track(
            &format!("reading message sizes in folder `{folder}`"),
            fetched,
        )?;
        Ok(fetched
            .iter()
            .filter_map(|f| Some((f.uid?, u64::from(f.size?))))
            .filter(|(uid, _)| wanted.contains(uid))
            .collect())
    }

    /// Fetch the given messages in one `UID FETCH … (UID BODY.PEEK[])`, in the order of `uids`.
    /// `uidvalidity` must still be the folder's (else an error: the UIDs mean other messages
    /// now). Messages deleted meanwhile are left out.
    pub fn fetch(
        &mut self,
        folder: &str,
        uidvalidity: u32,
        uids: &[u32],
    ) -> Result<Vec<RawMail>, IngestError> {
        let r = self.fetch_inner(folder, uidvalidity, uids);
        self.wrap(r)
    }

    pub(super) fn fetch_inner(
        &mut self,
        folder: &str,
        uidvalidity: u32,
        uids: &[u32],
    ) -> Result<Vec<RawMail>, Fail> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        self.check_uidvalidity(folder, uidvalidity)?;
        let wanted: HashSet<u32> = uids.iter().copied().collect();
        let fetched = self.session.uid_fetch(uid_set(uids), "(UID BODY.PEEK[])");
        let fetched = self.track(&format!("reading messages from folder `{folder}`"), fetched)?;
        let mut bodies: HashMap<u32, Vec<u8>> = HashMap::with_capacity(uids.len());
        for f in fetched.iter() {
            if let (Some(uid), Some(body)) = (f.uid, f.body()) {
                if wanted.contains(&uid) {
                    bodies.insert(uid, body.to_vec());
                }
            }
        }
        drop(fetched);
        Ok(uids
            .iter()
            .filter_map(|uid| {
                bodies.remove(uid).map(|bytes| RawMail {
                    origin: SourceRef::Imap {
                        mailbox: self.cfg.name.clone(),
                        folder: folder.to_string(),
                        uidvalidity,
                        uid: *uid,
                    },
                    bytes,
                    checkpoint: Some(Checkpoint { key: folder_key(&self.cfg.name, folder), epoch: uidvalidity, mark: *uid }),
                })
            })
            .collect())
    }

    /// Log out politely.
    pub fn logout(mut self) -> Result<(), IngestError> {
        self.broken = true; // Drop must not log out a second time
        let r = self.session.logout();
        let r = self.track("logging out", r);
        self.wrap(r)
    }
}

impl Drop for ImapSession {
    fn drop(&mut self) {
        if !self.broken {
            let _ = self.socket.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = self.session.logout();
        }
        let _ = self.socket.shutdown(Shutdown::Both);
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
