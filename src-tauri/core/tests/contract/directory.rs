//! People, group members, direct reports, the manager and user look-ups.
