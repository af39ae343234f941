//! Free/busy, as `getSchedule` answers it.
