use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

use super::{initials, Directory, Photo, MAX_PHOTO};
use crate::error::{Error, Result};
use crate::graph::{BatchRequest, BatchResponse};
use crate::presence::normalize_user_id;
use crate::toml_file::write_atomically;

impl Directory {
    /// Someone's photo or initials, from the cache when it is fresh; an
    /// error when it could not be had (a failed request, a photo past
    /// [`MAX_PHOTO`]) and none is cached. See [`Directory::photos`].
    pub async fn photo(&self, id: &str, name: &str) -> Result<Photo> {
        let mut photos = self
            .fetch_photos(&[(id.to_string(), name.to_string())])
            .await?;
        photos.pop().expect("one answer per person")
    }

    /// Photos (or initials) for `(id, name)` pairs, in the same order.
    ///
    /// A fresh cache entry answers without a request; the rest are fetched
    /// through `$batch`. A 404 means "no photo" and is cached too. When a
    /// refresh fails, a stale picture is better than none and is used. One
    /// person's photo that cannot be had (refused, or past [`MAX_PHOTO`])
    /// costs nobody else theirs: that person gets initials, and the reason
    /// goes to the log. The error is only for a request that failed as a
    /// whole with nothing cached.
    pub async fn photos(&self, people: &[(String, String)]) -> Result<Vec<Photo>> {
        let photos = self.fetch_photos(people).await?;
        Ok(photos
            .into_iter()
            .zip(people)
            .map(|(photo, (id, name))| {
                photo.unwrap_or_else(|e| {
                    tracing::warn!("no photo for {id}, initials instead: {e}");
                    Photo::Initials(initials(name))
                })
            })
            .collect())
    }

    /// Each person's photo or why there is none; the error alone when the
    /// requests failed as a whole and someone has nothing cached.
    async fn fetch_photos(&self, people: &[(String, String)]) -> Result<Vec<Result<Photo>>> {
        enum Slot {
            Ready(Photo),
            Fetch { id: String, stale: Option<Photo> },
        }
        let mut slots = Vec::with_capacity(people.len());
        let mut fetch: Vec<String> = Vec::new();
        let mut asked = HashSet::new();
        for (id, name) in people {
            // Only a GUID may name a file in the cache.
            let slot = match normalize_user_id(id) {
                None => Slot::Ready(Photo::Initials(initials(name))),
                Some(id) => match self.cached_photo(&id, name) {
                    Some((photo, true)) => Slot::Ready(photo),
                    cached => {
                        if asked.insert(id.clone()) {
                            fetch.push(id.clone());
                        }
                        Slot::Fetch {
                            id,
                            stale: cached.map(|(photo, _)| photo),
                        }
                    }
                },
            };
            slots.push(slot);
        }

        let mut fetched: HashMap<String, Result<StoredPhoto>> = HashMap::new();
        if !fetch.is_empty() {
            let requests: Vec<BatchRequest> = fetch
                .iter()
                .enumerate()
                .map(|(n, id)| {
                    BatchRequest::get(n.to_string(), format!("/users/{id}/photo/$value"))
                })
                .collect();
            match self.batch_with_retries(requests).await {
                Ok(answers) => {
                    for (id, answer) in fetch.iter().zip(answers) {
                        fetched.insert(id.clone(), self.store_photo(id, &answer));
                    }
                }
                Err(e)
                    if slots
                        .iter()
                        .any(|s| matches!(s, Slot::Fetch { stale: None, .. })) =>
                {
                    return Err(e)
                }
                Err(e) => tracing::debug!("photo refresh failed, using cached photos: {e}"),
            }
        }

        let mut out = Vec::with_capacity(slots.len());
        for (slot, (_, name)) in slots.into_iter().zip(people) {
            let photo = match slot {
                Slot::Ready(photo) => Ok(photo),
                Slot::Fetch { id, stale } => {
                    let got = fetched.get(&id).map(|r| r.as_ref().ok().cloned());
                    match (got, stale) {
                        (Some(Some(stored)), _) => Ok(stored.into_photo(name)),
                        // A stale picture is better than none when a refresh fails.
                        (_, Some(old)) => Ok(old),
                        (_, None) => Err(match fetched.get(&id) {
                            Some(Err(e)) => e.clone(),
                            _ => Error::Malformed(format!("no photo answer for {id}")),
                        }),
                    }
                }
            };
            out.push(photo);
        }
        Ok(out)
    }

    /// The cached photo of `id` and whether it is still fresh.
    fn cached_photo(&self, id: &str, name: &str) -> Option<(Photo, bool)> {
        for (ext, content_type) in PHOTO_KINDS {
            let path = self.photo_dir.join(format!("{id}.{ext}"));
            let Ok(meta) = fs::metadata(&path) else {
                continue;
            };
            let age = meta
                .modified()
                .ok()
                .and_then(|m| SystemTime::now().duration_since(m).ok())
                .unwrap_or(Duration::ZERO);
            let fresh = age < self.photo_max_age;
            let photo = if *ext == NO_PHOTO {
                Photo::Initials(initials(name))
            } else {
                Photo::Picture {
                    path,
                    content_type: content_type.to_string(),
                }
            };
            return Some((photo, fresh));
        }
        None
    }

    /// Writes one photo answer to the cache, replacing what was there.
    fn store_photo(&self, id: &str, answer: &BatchResponse) -> Result<StoredPhoto> {
        let (ext, content_type, bytes) = match answer.status {
            200..=299 => {
                let content_type = answer
                    .header("Content-Type")
                    .unwrap_or("image/jpeg")
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase();
                let ext = PHOTO_KINDS
                    .iter()
                    .find(|(_, ct)| *ct == content_type)
                    .map(|(ext, _)| *ext)
                    .unwrap_or("img");
                // Binary answers travel base64-encoded inside a batch.
                let bytes = answer
                    .body
                    .as_str()
                    .and_then(decode_base64)
                    .filter(|b| !b.is_empty())
                    .ok_or_else(|| Error::Malformed(format!("the photo of {id} is not base64")))?;
                if bytes.len() > MAX_PHOTO {
                    return Err(Error::Malformed(format!(
                        "the photo of {id} is larger than {} MiB, far more than a profile photo can be; it was not kept",
                        MAX_PHOTO >> 20
                    )));
                }
                if is_placeholder(&bytes) {
                    (NO_PHOTO, String::new(), Vec::new())
                } else {
                    (ext, content_type, bytes)
                }
            }
            404 => (NO_PHOTO, String::new(), Vec::new()),
            _ => {
                return Err(answer
                    .json::<serde_json::Value>()
                    .err()
                    .unwrap_or_else(|| Error::Malformed(format!("the photo of {id} failed"))))
            }
        };
        let path = self.photo_dir.join(format!("{id}.{ext}"));
        write_atomically(&path, &bytes)?;
        for (other, _) in PHOTO_KINDS.iter().filter(|(e, _)| *e != ext) {
            let _ = fs::remove_file(self.photo_dir.join(format!("{id}.{other}")));
        }
        Ok(if ext == NO_PHOTO {
            StoredPhoto::None
        } else {
            StoredPhoto::Picture { path, content_type }
        })
    }
}

/// File extensions in the photo cache and the content types they hold.
const PHOTO_KINDS: &[(&str, &str)] = &[
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("gif", "image/gif"),
    ("bmp", "image/bmp"),
    ("img", "application/octet-stream"),
    (NO_PHOTO, ""),
];
/// The extension of the empty file that remembers "this person has no photo".
const NO_PHOTO: &str = "none";

#[derive(Debug, Clone)]
enum StoredPhoto {
    Picture { path: PathBuf, content_type: String },
    None,
}

impl StoredPhoto {
    fn into_photo(self, name: &str) -> Photo {
        match self {
            StoredPhoto::Picture { path, content_type } => Photo::Picture { path, content_type },
            StoredPhoto::None => Photo::Initials(initials(name)),
        }
    }
}

/// True for the picture Graph serves for someone who has no photo: a GIF of
/// one pixel (its `/photo` says `image/gif`, 1 x 1, with an empty
/// `mediaEtag`), whatever content type the answer claimed. Shown as
/// initials, like a 404.
pub fn is_placeholder(bytes: &[u8]) -> bool {
    // A GIF's logical screen size follows its six-byte signature, little-endian.
    match bytes {
        [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', w0, w1, h0, h1, ..] => {
            u16::from_le_bytes([*w0, *w1]) <= 1 && u16::from_le_bytes([*h0, *h1]) <= 1
        }
        _ => false,
    }
}

/// Standard base64 (with or without padding; white space ignored), as Graph
/// encodes binary bodies inside `$batch` answers.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let clean: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    LENIENT.decode(clean).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest GIF there is: one transparent pixel.
    pub(crate) const ONE_PIXEL_GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff\x21\xf9\x04\x01\x00\x00\x00\x00\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b";

    #[test]
    fn a_one_pixel_gif_is_no_photo_and_real_pictures_are() {
        assert!(is_placeholder(ONE_PIXEL_GIF));
        assert!(is_placeholder(b"GIF87a\x01\x00\x01\x00"));
        let mut bigger = ONE_PIXEL_GIF.to_vec();
        bigger[6] = 48;
        bigger[8] = 48;
        assert!(!is_placeholder(&bigger), "a 48 x 48 GIF is a photo");
        assert!(!is_placeholder(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"));
        assert!(!is_placeholder(b"GIF8"), "too short to say");
        assert!(!is_placeholder(b""));
    }

    #[test]
    fn base64_round_trips_every_length() {
        use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
        for len in 0..40u8 {
            let bytes: Vec<u8> = (0..len)
                .map(|i| i.wrapping_mul(37).wrapping_add(200))
                .collect();
            // Graph pads; without padding is read too.
            assert_eq!(
                decode_base64(&STANDARD_NO_PAD.encode(&bytes)).unwrap(),
                bytes,
                "length {len}"
            );
            assert_eq!(
                decode_base64(&STANDARD.encode(&bytes)).unwrap(),
                bytes,
                "length {len}"
            );
        }
        assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVs\nbG8").unwrap(), b"hello");
        assert!(decode_base64("a*==").is_none());
        assert!(decode_base64("abcde").is_none());
    }
}
