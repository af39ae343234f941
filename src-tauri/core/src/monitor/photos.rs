//! Photos: fetched once per teammate into the photo cache, shown when there.

use std::sync::Arc;

use crate::directory::{Directory, Photo};

use super::{Monitor, PhotoFile};

impl Monitor {
    /// The photo of `id` in the photo cache, if they have one.
    pub fn photo(&self, id: &str) -> Option<PhotoFile> {
        self.state.lock().unwrap().photos.get(id).cloned().flatten()
    }

    /// Fetches the photos not fetched yet (the directory keeps them on disk),
    /// then tells the front ends the roster with them.
    pub async fn load_photos(self: &Arc<Self>) {
        let (directory, missing) = {
            let state = self.state.lock().unwrap();
            let Some(graph) = state.graph.clone() else {
                return;
            };
            let missing: Vec<(String, String)> = state
                .roster
                .teammates()
                .iter()
                .filter(|t| !state.photos.contains_key(&t.id))
                .map(|t| (t.id.clone(), t.name().to_string()))
                .collect();
            (Directory::for_settings(graph, &state.settings), missing)
        };
        if missing.is_empty() {
            return;
        }
        let photos = match directory.photos(&missing).await {
            Ok(photos) => photos,
            Err(e) => {
                tracing::warn!("photos could not be fetched: {e}");
                return;
            }
        };
        {
            let mut state = self.state.lock().unwrap();
            for ((id, _), photo) in missing.into_iter().zip(photos) {
                let file = match photo {
                    Photo::Picture { path, content_type } => Some(PhotoFile { path, content_type }),
                    Photo::Initials(_) => None,
                };
                state.photos.insert(id, file);
            }
        }
        self.emit_roster();
    }

    /// [`Monitor::load_photos`] in the background, when signed in.
    pub(super) fn load_photos_later(self: &Arc<Self>) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let me = self.clone();
            runtime.spawn(async move { me.load_photos().await });
        }
    }
}
