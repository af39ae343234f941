//! The identity platform's token answers and token errors.
