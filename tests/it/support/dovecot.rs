//! A real Dovecot IMAP server per test, in a fresh temporary directory.
//!
//! [`Dovecot::start`] mints a throw-away CA and a server certificate for `localhost` with the
//! `openssl` command, writes a minimal `dovecot.conf` (listening on 127.0.0.1 only: one port with
//! implicit TLS, one with STARTTLS and plaintext allowed; passwd-file auth with one user; maildir
//! storage; a folder marked SPECIAL-USE `\Sent`; IMAP traffic logged to `rawlog/` so tests can
//! see every command a client sent after logging in), starts `dovecot -F` as a child, waits until
//! both ports accept connections, and loads the Sent folder with the messages from
//! `tests/fixtures/imap/sent/` (UIDs 1.. in file-name order; all unseen).
//!
//! Every instance has its own ports, directories and `instance_name`, so tests run in parallel.
//! Dropping the fixture stops Dovecot (SIGTERM, then SIGKILL to its whole process group) and
//! removes the directory, also when the test panics.
//!
//! Run as root, Dovecot's login processes run as `dovenull` (or `nobody`) and the mail user as
//! `nobody`; run as a normal user, everything runs as that user.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The fixture user's login and password. The password has a quote, a backslash and spaces so
/// that LOGIN's quoting is exercised.
pub const USER: &str = "support@northwind-bikes.example";
pub const PASSWORD: &str = r#"c0rrect "horse" \battery staple"#;

/// The `.eml` files loaded into the Sent folder, in UID order.
pub fn fixture_messages() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/imap/sent");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let bytes = fs::read(&p).unwrap();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                crlf(&bytes),
            )
        })
        .collect()
}

/// Messages on an IMAP server have CRLF line ends; the fixture files have LF.
pub fn crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 40);
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' && (i == 0 || bytes[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// Where the `dovecot` binary is (Debian installs it in /usr/sbin, which is not always on PATH).
pub fn dovecot_binary() -> Option<PathBuf> {
    find_binary("dovecot")
}

fn find_binary(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/usr/bin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Options for [`Dovecot::start_with`].
#[derive(Debug, Clone)]
pub struct Options {
    /// The name of the folder marked SPECIAL-USE `\Sent`, which gets the fixture messages.
    pub sent_folder: String,
    /// Mark it SPECIAL-USE `\Sent` (as servers normally do).
    pub mark_sent: bool,
    /// More (empty) folders to create.
    pub other_folders: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sent_folder: "Sent".to_string(),
            mark_sent: true,
            other_folders: vec!["Drafts".to_string(), "Archive".to_string()],
        }
    }
}

pub struct Dovecot {
    dir: tempfile::TempDir,
    child: Option<Child>,
    conf: PathBuf,
    /// Implicit TLS.
    pub imaps_port: u16,
    /// STARTTLS, and plaintext for clients that insist.
    pub imap_port: u16,
    /// The CA that signed the server's certificate (PEM).
    pub ca_file: PathBuf,
    /// Another CA that did not (PEM).
    pub other_ca_file: PathBuf,
    pub sent_folder: String,
    oauth2_key: Vec<u8>,
    home: PathBuf,
    mail_owner: Option<(u32, u32)>,
    seq: AtomicU32,
}

struct Users {
    /// Owner of the mail files (uid, gid) when it differs from ours (we are root).
    mail_owner: Option<(u32, u32)>,
    login_user: String,
    internal_user: String,
    internal_group: String,
    mail_uid: u32,
    mail_gid: u32,
}

fn users() -> &'static Users {
    static USERS: OnceLock<Users> = OnceLock::new();
    USERS.get_or_init(|| {
        let id = |arg: &str| {
            let out = Command::new("id").arg(arg).output().expect("run id");
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        };
        let uid: u32 = id("-u").parse().unwrap();
        let gid: u32 = id("-g").parse().unwrap();
        if uid != 0 {
            let me = id("-un");
            return Users {
                mail_owner: None,
                login_user: me.clone(),
                internal_user: me,
                internal_group: id("-gn"),
                mail_uid: uid,
                mail_gid: gid,
            };
        }
        // Dovecot refuses to run login processes or mail access as root.
        let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
        let entry = |name: &str| {
            passwd.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() > 3 && f[0] == name).then(|| (f[2].parse::<u32>().unwrap(), f[3].parse::<u32>().unwrap()))
            })
        };
        let pick = |names: &[&str]| {
            names
                .iter()
                .find(|n| entry(n).is_some())
                .map(|n| n.to_string())
                .expect("no unprivileged user (dovenull, dovecot or nobody) to run Dovecot's processes as")
        };
        let (mail_uid, mail_gid) = entry("nobody").expect("no `nobody` user to own the test mail");
        Users {
            mail_owner: Some((mail_uid, mail_gid)),
            login_user: pick(&["dovenull", "nobody"]),
            internal_user: pick(&["dovecot", "nobody"]),
            internal_group: id("-gn"),
            mail_uid,
            mail_gid,
        }
    })
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn openssl(dir: &Path, args: &[&str]) {
    run(Command::new("openssl").current_dir(dir).args(args));
}

/// A self-signed CA: `<name>.crt` and `<name>.key` in `dir`.
fn make_ca(dir: &Path, name: &str) -> PathBuf {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
            "-days",
            "2",
            "-subj",
            &format!("/CN={name} (rapport tests, throw-away)"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    dir.join(format!("{name}.crt"))
}

/// `server.crt`/`server.key` for DNS name `localhost` only (no IP address: connecting to
/// 127.0.0.1 by address is a name mismatch, which a test relies on), signed by `ca`.
fn make_server_cert(dir: &Path, ca: &str) {
    fs::write(
        dir.join("server.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &format!("{ca}.crt"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            "server.crt",
            "-extfile",
            "server.ext",
        ],
    );
}

/// Two ports nobody listens on right now (held together so they differ).
fn free_ports() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

impl Dovecot {
    /// A server with the default [`Options`], or `None` (after saying why on stderr) when Dovecot
    /// is not installed: run `scripts/install-test-deps.sh`.
    pub fn start(test: &str) -> Option<Dovecot> {
        Self::start_with(test, Options::default())
    }

    pub fn start_with(test: &str, options: Options) -> Option<Dovecot> {
        let Some(binary) = dovecot_binary() else {
            eprintln!(
                "SKIPPED {test}: `dovecot` is not installed (run scripts/install-test-deps.sh)"
            );
            return None;
        };
        let mut last_log = String::new();
        for _ in 0..3 {
            match Self::try_start(&binary, &options) {
                Ok(d) => return Some(d),
                // Another process took a port between free_ports() and Dovecot's bind: try again.
                Err(log) if log.contains("Address already in use") => last_log = log,
                Err(log) => panic!("Dovecot did not start:\n{log}"),
            }
        }
        panic!("Dovecot did not start (ports kept being taken):\n{last_log}");
    }

    fn try_start(binary: &Path, options: &Options) -> Result<Dovecot, String> {
        static INSTANCE: AtomicU32 = AtomicU32::new(0);
        let users = users();
        let dir = tempfile::Builder::new()
            .prefix("rapport-dovecot-")
            .tempdir()
            .unwrap();
        let root = dir.path().to_path_buf();
        // Dovecot's unprivileged processes must reach their sockets and the mail.
        fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
        for d in ["run", "state"] {
            fs::create_dir(root.join(d)).unwrap();
        }
        let ca_file = make_ca(&root, "test-ca");
        let other_ca_file = make_ca(&root, "other-ca");
        make_server_cert(&root, "test-ca");
        fs::write(
            root.join("passwd"),
            format!("{USER}:{{PLAIN}}{PASSWORD}::::::\n"),
        )
        .unwrap();
        // OAuth2: Dovecot validates HS256-signed JWTs itself with this key (no token server).
        let oauth2_key = random_bytes(32);
        let key_dir = root.join("oauth2-keys/default/HS256");
        fs::create_dir_all(&key_dir).unwrap();
        fs::write(key_dir.join("default"), base64(&oauth2_key, STANDARD)).unwrap();
        fs::write(
            root.join("oauth2.conf"),
            format!(
                "introspection_mode = local\nlocal_validation_key_dict = fs:posix:prefix={}/oauth2-keys/\nusername_attribute = email\n",
                root.display()
            ),
        )
        .unwrap();

        let home = root.join("home");
        let maildir = home.join("Maildir");
        for d in ["cur", "new", "tmp"] {
            fs::create_dir_all(maildir.join(d)).unwrap();
        }
        fs::create_dir_all(home.join("rawlog")).unwrap();

        let (imap_port, imaps_port) = free_ports();
        let instance = format!(
            "rapport-test-{}-{}",
            std::process::id(),
            INSTANCE.fetch_add(1, Ordering::Relaxed)
        );
        let conf = root.join("dovecot.conf");
        let r = root.display();
        let mut mailboxes = format!(
            "  mailbox \"{}\" {{\n{}    auto = create\n  }}\n",
            options.sent_folder,
            if options.mark_sent {
                "    special_use = \\Sent\n"
            } else {
                ""
            }
        );
        for f in &options.other_folders {
            mailboxes.push_str(&format!("  mailbox \"{f}\" {{\n    auto = create\n  }}\n"));
        }
        fs::write(
            &conf,
            format!(
                r#"# Written by rapport's tests (tests/it/support/dovecot.rs); throw-away.
instance_name = {instance}
base_dir = {r}/run
state_dir = {r}/state
log_path = {r}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = yes
ssl_cert = <{r}/server.crt
ssl_key = <{r}/server.key
ssl_min_protocol = TLSv1.2
# Allow LOGIN on the unencrypted port too: the tests check that rapport refuses it by itself.
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2
auth_failure_delay = 0
default_internal_user = {internal}
default_login_user = {login}
default_internal_group = {group}
first_valid_uid = 1
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {r}/passwd
}}
passdb {{
  driver = oauth2
  mechanisms = xoauth2
  args = {r}/oauth2.conf
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={r}/home allow_all_users=yes
}}
mail_location = maildir:~/Maildir
rawlog_dir = %h/rawlog
namespace inbox {{
  inbox = yes
{mailboxes}}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  # No growing delays after the failed logins that tests make on purpose (auth penalty).
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service auth-worker {{
  user = {internal}
}}
"#,
                internal = users.internal_user,
                login = users.login_user,
                group = users.internal_group,
                uid = users.mail_uid,
                gid = users.mail_gid,
            ),
        )
        .unwrap();
        let fg_log = fs::File::create(root.join("dovecot.stderr")).unwrap();
        let child = Command::new(binary)
            .arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(fg_log.try_clone().unwrap())
            .stderr(fg_log)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let mut d = Dovecot {
            home,
            mail_owner: users.mail_owner,
            dir,
            child: Some(child),
            conf,
            imaps_port,
            imap_port,
            ca_file,
            other_ca_file,
            sent_folder: options.sent_folder.clone(),
            oauth2_key,
            seq: AtomicU32::new(0),
        };
        d.chown_mail();
        d.wait_ready()?;
        for (i, (_, bytes)) in fixture_messages().iter().enumerate() {
            d.write_maildir_file(&options.sent_folder, i as u32, bytes);
        }
        d.chown_mail();
        // The first access makes Dovecot assign UIDs (in file-name order) and starts the auth
        // service, so the first IMAP login does not wait for it.
        let n = d.flags(&options.sent_folder).len();
        assert_eq!(
            n,
            fixture_messages().len(),
            "Dovecot did not see the fixture messages"
        );
        Ok(d)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                self.child = None;
                return Err(format!("dovecot exited ({status}):\n{}", self.logs()));
            }
            let up = |port| TcpStream::connect(("127.0.0.1", port)).is_ok();
            if up(self.imap_port) && up(self.imaps_port) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "dovecot did not listen within 15 s:\n{}",
                    self.logs()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// An OAuth2 access token (a JWT signed with the server's key) for `email`, valid for
    /// `valid_secs` seconds from now (negative: already expired).
    pub fn oauth2_token(&self, email: &str, valid_secs: i64) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let header = base64(br#"{"alg":"HS256","typ":"JWT"}"#, URL_SAFE);
        let claims = format!(
            r#"{{"sub":"{email}","email":"{email}","iat":{},"nbf":{},"exp":{}}}"#,
            now - 60,
            now - 60,
            now + valid_secs
        );
        let signed = format!("{header}.{}", base64(claims.as_bytes(), URL_SAFE));
        let signature = hmac_sha256(&self.oauth2_key, signed.as_bytes());
        format!("{signed}.{}", base64(&signature, URL_SAFE))
    }

    /// Dovecot's own logs (for assertion messages).
    pub fn logs(&self) -> String {
        let read = |f: &str| fs::read_to_string(self.dir.path().join(f)).unwrap_or_default();
        format!("{}{}", read("dovecot.stderr"), read("dovecot.log"))
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn folder_dir(&self, folder: &str) -> PathBuf {
        let maildir = self.home.join("Maildir");
        if folder == "INBOX" {
            maildir
        } else {
            maildir.join(format!(".{}", imap_utf7(folder)))
        }
    }

    fn write_maildir_file(&self, folder: &str, i: u32, bytes: &[u8]) {
        let dir = self.folder_dir(folder);
        for d in ["cur", "new", "tmp"] {
            fs::create_dir_all(dir.join(d)).unwrap();
        }
        // Dovecot gives new files UIDs in file-name order; no `S` flag: unseen.
        let name = format!(
            "{}.M{:06}P{}.rapport-test,S={}:2,",
            1_700_000_000 + i,
            i,
            std::process::id(),
            bytes.len()
        );
        let tmp = dir.join("tmp").join(&name);
        fs::write(&tmp, bytes).unwrap();
        fs::rename(&tmp, dir.join("cur").join(&name)).unwrap();
    }

    fn chown_mail(&self) {
        if let Some((uid, gid)) = self.mail_owner {
            run(Command::new("chown")
                .arg("-R")
                .arg(format!("{uid}:{gid}"))
                .arg(&self.home));
        }
    }

    fn doveadm(&self, args: &[&str]) -> Output {
        let doveadm = find_binary("doveadm").expect("doveadm is installed with dovecot");
        let mut cmd = Command::new(doveadm);
        cmd.arg("-c").arg(&self.conf).args(args);
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
        assert!(
            out.status.success(),
            "{cmd:?} failed ({}):\n{}{}\nDovecot's log:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.logs()
        );
        out
    }

    /// Deliver a message into `folder` the way a mail client's "save to Sent" would (it gets the
    /// next UID). Returns nothing; read the UID with [`Dovecot::flags`].
    pub fn append(&self, folder: &str, bytes: &[u8]) {
        let doveadm = find_binary("doveadm").expect("doveadm");
        let mut child = Command::new(doveadm)
            .arg("-c")
            .arg(&self.conf)
            .args(["save", "-u", USER, "-m", folder])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(bytes).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "doveadm save failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Give `folder` a new UIDVALIDITY (as a server does after rebuilding its indexes).
    pub fn set_uidvalidity(&self, folder: &str, uidvalidity: u32) {
        self.doveadm(&[
            "mailbox",
            "update",
            "-u",
            USER,
            "--uid-validity",
            &uidvalidity.to_string(),
            folder,
        ]);
    }

    /// Every message's flags in `folder`, by UID, read by doveadm (not over IMAP). `\Recent` is
    /// left out: it belongs to a session, and doveadm's own access clears it.
    pub fn flags(&self, folder: &str) -> BTreeMap<u32, Vec<String>> {
        let out = self.doveadm(&[
            "-f",
            "flow",
            "fetch",
            "-u",
            USER,
            "uid flags",
            "mailbox",
            folder,
            "all",
        ]);
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let rest = line
                    .strip_prefix("uid=")
                    .unwrap_or_else(|| panic!("unexpected doveadm line {line:?}"));
                let (uid, flags) = rest.split_once(" flags=").unwrap_or((rest, ""));
                let mut flags: Vec<String> = flags
                    .split_whitespace()
                    .filter(|f| *f != "\\Recent")
                    .map(str::to_string)
                    .collect();
                flags.sort();
                (uid.trim().parse().unwrap(), flags)
            })
            .collect()
    }

    /// Set flags on one message (to prepare a state), via doveadm.
    pub fn add_flags(&self, folder: &str, uid: u32, flags: &str) {
        self.doveadm(&[
            "flags",
            "add",
            "-u",
            USER,
            flags,
            "mailbox",
            folder,
            "uid",
            &uid.to_string(),
        ]);
    }

    /// Create an (empty) folder.
    pub fn create_folder(&self, folder: &str) {
        self.doveadm(&["mailbox", "create", "-u", USER, folder]);
    }

    /// Disconnect the user's IMAP sessions now (the server side of a dropped connection), the
    /// way an administrator would with `doveadm kick`. Waits (up to 5 s) until Dovecot knows of
    /// a session to kick: it learns of new sessions asynchronously.
    pub fn kick(&self) {
        let doveadm = find_binary("doveadm").expect("doveadm");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let out = Command::new(&doveadm)
                .arg("-c")
                .arg(&self.conf)
                .args(["kick", USER])
                .output()
                .unwrap();
            if out.status.success() {
                // `kick` only signals the connection's process: wait until Dovecot no longer
                // counts it (nobody left to kick), so the next command surely meets a closed
                // connection. Nothing reconnects meanwhile: the caller is the one client.
                while Instant::now() < deadline {
                    let again = Command::new(&doveadm).arg("-c").arg(&self.conf).args(["kick", USER]).output().unwrap();
                    if again.status.code() == Some(68) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                return;
            }
            // Exit code 68 (EX_NOUSER): nobody to kick (yet).
            assert!(
                out.status.code() == Some(68) && Instant::now() < deadline,
                "doveadm kick failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Wait (up to 5 s) until Dovecot's log holds `pattern` at least `count` times, then a little
    /// longer for stragglers, and return how many times it does. Dovecot logs through a separate
    /// process, so lines appear a moment after the client has moved on.
    pub fn log_count(&self, pattern: &str, count: usize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.logs().matches(pattern).count() < count && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(100));
        self.logs().matches(pattern).count()
    }

    /// How many IMAP logins Dovecot has accepted, once at least `count` are logged (see
    /// [`Dovecot::log_count`]; with `count` 0 it only lets the log settle).
    pub fn logins(&self, count: usize) -> usize {
        self.log_count("imap-login: Info: Login: ", count)
    }

    /// Every command clients sent after logging in, over all sessions so far (Dovecot's rawlog;
    /// it starts after LOGIN, so it never holds the password), without tags or timestamps.
    pub fn client_commands(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = fs::read_dir(self.home.join("rawlog"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "in"))
            .collect();
        files.sort();
        let mut commands = Vec::new();
        for f in files {
            for line in BufReader::new(fs::File::open(&f).unwrap()).lines() {
                let line = line.unwrap();
                // "<secs>.<usecs> <tag> <command…>"
                let mut parts = line.splitn(3, ' ');
                let (_ts, _tag, command) = (parts.next(), parts.next(), parts.next());
                if let Some(command) = command {
                    commands.push(command.to_string());
                }
            }
        }
        commands
    }

    /// Stop the server now (e.g. to test giving up), by killing Dovecot's whole process group
    /// (its master and every child: a throw-away server needs no graceful shutdown, which takes a
    /// second). Idempotent.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let group = format!("-{}", child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = child.kill();
        let _ = child.wait();
        // Wait (briefly) until every process of the group is gone (zombies aside: reaping the
        // orphans is init's job).
        let deadline = Instant::now() + Duration::from_secs(3);
        while live_processes_in_group(child.id()) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Processes (not zombies) in process group `pgid`, from /proc (0 where there is no /proc).
fn live_processes_in_group(pgid: u32) -> usize {
    let Ok(entries) = fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(|e| fs::read_to_string(e.ok()?.path().join("stat")).ok())
        .filter(|stat| {
            // "pid (comm) state ppid pgrp ..."; comm may contain spaces, so split after ')'.
            let Some((_, rest)) = stat.rsplit_once(')') else {
                return false;
            };
            let fields: Vec<&str> = rest.split_whitespace().collect();
            fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string()
        })
        .count()
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Modified UTF-7, as Dovecot names maildir++ folders on disk (independent of rapport's code).
fn imap_utf7(name: &str) -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
    let mut out = String::new();
    let mut run: Vec<u16> = Vec::new();
    let flush = |run: &mut Vec<u16>, out: &mut String| {
        if run.is_empty() {
            return;
        }
        let bytes: Vec<u8> = run.iter().flat_map(|u| u.to_be_bytes()).collect();
        out.push('&');
        let mut bits = 0u32;
        let mut n = 0;
        for b in bytes {
            bits = (bits << 8) | u32::from(b);
            n += 8;
            while n >= 6 {
                n -= 6;
                out.push(B64[((bits >> n) & 63) as usize] as char);
            }
            bits &= (1 << n) - 1;
        }
        if n > 0 {
            out.push(B64[((bits << (6 - n)) & 63) as usize] as char);
        }
        out.push('-');
        run.clear();
    };
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut run, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            run.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut run, &mut out);
    out
}

fn random_bytes(n: usize) -> Vec<u8> {
    use std::io::Read;
    let mut bytes = vec![0; n];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("read /dev/urandom");
    bytes
}

type Alphabet = (&'static [u8; 64], bool);
const STANDARD: Alphabet = (
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    true,
);
const URL_SAFE: Alphabet = (
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
    false,
);

/// Base64 with the given alphabet, padded or not (JWTs use unpadded base64url).
fn base64(bytes: &[u8], (alphabet, pad): Alphabet) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(alphabet[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
        if pad {
            out.push_str(&"=".repeat(3 - chunk.len()));
        }
    }
    out
}

/// HMAC-SHA256 (RFC 2104) over `sha2`, for signing test JWTs.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

#[test]
fn imap_fixture_jwt_helpers_match_known_vectors() {
    // RFC 4231 test case 2 and RFC 4648 section 10.
    let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    assert_eq!(base64(b"foobar", STANDARD), "Zm9vYmFy");
    assert_eq!(base64(b"fooba", STANDARD), "Zm9vYmE=");
    assert_eq!(base64(b"foob", STANDARD), "Zm9vYg==");
    assert_eq!(base64(&[0xfb, 0xff], URL_SAFE), "-_8");
}
