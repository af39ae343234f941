//! Exit codes are part of the interface, scripts rely on them: 0 ok,
//! 1 error, 2 usage, 3 sign-in needed.

use presently_core::Error;

pub const EXIT_OK: u8 = 0;
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_SIGN_IN: u8 = 3;

/// The exit code for a failure: 3 when the user has to sign in (again).
pub fn exit_code_for(e: &Error) -> u8 {
    if e.needs_sign_in() {
        EXIT_SIGN_IN
    } else {
        EXIT_ERROR
    }
}
