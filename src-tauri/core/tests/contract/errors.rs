//! Graph's error bodies, and `$batch` answers.
