//! Profile photos: the metadata and the picture.

use super::*;

/// Side of the square profile photos, in pixels.
pub(super) const PHOTO_SIZE: u32 = 96;

pub(super) fn photo(ctx: &Ctx<'_>, grant: &Grant, who: &Who, bytes: bool) -> Handled {
    let i = require_for(ctx, grant, who, &USER_ME, &USERS)?;
    if !ctx.shared.directory.users[i].has_photo {
        return Err(error(
            404,
            "ImageNotFound",
            "Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' was thrown.",
        ));
    }
    if bytes {
        let hue = (mix(ctx.shared.config.seed ^ i as u64) % 360) as u32;
        let mut picture = png::portrait(hue, PHOTO_SIZE);
        if let Some(&size) = ctx.st.photo_sizes.get(&i) {
            picture.resize(size.max(picture.len()), 0);
        }
        let mut resp = GraphResponse::ok(Value::Null);
        resp.body = Body::Png(picture);
        return Ok(resp);
    }
    Ok(GraphResponse::ok(json!({
        "@odata.context": format!("{}/v1.0/$metadata#users('{}')/photo/$entity", ctx.shared.base_url, ctx.shared.directory.users[i].id),
        "@odata.mediaContentType": "image/png",
        "id": format!("{PHOTO_SIZE}X{PHOTO_SIZE}"),
        "height": PHOTO_SIZE,
        "width": PHOTO_SIZE,
    })))
}
