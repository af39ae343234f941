//! `presently` is a console program: run from a terminal (cmd.exe,
//! PowerShell, a shell) it prints there and the terminal waits for it. On
//! Windows that is the executable's subsystem: a GUI-subsystem program
//! started from a terminal prints nothing, and the prompt comes back at once.

use presently_e2e::{presently_bin, windows, TestEnv};

/// The `Subsystem` field of a PE executable's optional header.
fn pe_subsystem(exe: &[u8]) -> u16 {
    let u16_at = |at: usize| u16::from_le_bytes([exe[at], exe[at + 1]]);
    assert_eq!(&exe[..2], b"MZ", "a Windows executable");
    let pe = u32::from_le_bytes(exe[0x3c..0x40].try_into().unwrap()) as usize;
    assert_eq!(&exe[pe..pe + 4], b"PE\0\0");
    let optional = pe + 4 + 20;
    assert_eq!(u16_at(optional), 0x20b, "PE32+ (64-bit)");
    u16_at(optional + 68)
}

#[tokio::test]
async fn it_prints_in_the_terminal_that_started_it() {
    if windows() {
        const IMAGE_SUBSYSTEM_WINDOWS_CUI: u16 = 3;
        let exe = std::fs::read(presently_bin()).unwrap();
        assert_eq!(pe_subsystem(&exe), IMAGE_SUBSYSTEM_WINDOWS_CUI);
    }
    let env = TestEnv::new(TestEnv::quick()).await;
    let version = env.run(&["--version"]).await;
    assert_eq!(version.code, 0, "{}", version.stderr);
    assert!(
        version.stdout.starts_with("presently "),
        "{}",
        version.stdout
    );
    let help = env.run(&["login", "--help"]).await;
    assert_eq!(help.code, 0, "{}", help.stderr);
    assert!(help.stdout.contains("--device-code"), "{}", help.stdout);
}
