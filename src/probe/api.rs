//! Shared by the Prometheus and Alertmanager sources: authenticated GETs of JSON, with the
//! server's own error text kept when it gives one.

use super::spec::ApiAuth;
use crate::sanitize::sanitize;

fn env(var: &str) -> Result<String, String> {
    std::env::var(var).ok().filter(|v| !v.is_empty()).ok_or_else(|| format!("environment variable {var} is not set"))
}

/// GETs `url` and returns the status and at most `limit` bytes of body.
pub async fn get(
    client: &reqwest::Client,
    url: reqwest::Url,
    auth: &ApiAuth,
    limit: usize,
) -> Result<(u16, Vec<u8>), String> {
    let mut request = client.get(url);
    if let Some(var) = &auth.bearer_token_env {
        request = request.bearer_auth(env(var)?);
    }
    if let Some(user) = &auth.basic_user_env {
        let password = auth.basic_password_env.as_deref().map(env).transpose()?;
        request = request.basic_auth(env(user)?, password);
    }
    let mut response = request.send().await.map_err(|e| super::http::describe_error(&e.without_url()))?;
    let status = response.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("reading the reply: {e}"))? {
        body.extend_from_slice(&chunk);
        if body.len() > limit {
            return Err(format!("reply larger than {} MiB", limit >> 20));
        }
    }
    Ok((status, body))
}

pub fn excerpt(body: &[u8]) -> String {
    sanitize(&body[..body.len().min(300)], 160)
}
