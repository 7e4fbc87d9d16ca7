//! Credentials per configured account: the default chain for the caller's own,
//! or a role assumed through STS for a member account. Shared by every AWS reader.

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use tracing::warn;

use crate::aws::{ApiCalls, error_text};

/// A configured account (`[[account]]`): its id, and the role to assume in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: String,
    pub role_arn: Option<String>,
}

/// How driftd's assumed-role sessions show up in CloudTrail.
pub const SESSION_NAME: &str = "driftd-scan";

/// One configuration per account (`None` id: the caller's own when no account is
/// configured), or why its role could not be assumed.
pub async fn account_configs(
    sdk: &SdkConfig,
    accounts: &[Account],
    calls: &ApiCalls,
) -> Vec<(Option<String>, Result<SdkConfig, String>)> {
    if accounts.is_empty() {
        return vec![(None, Ok(sdk.clone()))];
    }
    let mut configs = Vec::new();
    for account in accounts {
        let id = (!account.id.is_empty()).then(|| account.id.clone());
        let config = match &account.role_arn {
            None => Ok(sdk.clone()),
            Some(role_arn) => assume_role(sdk, role_arn, calls).await.map_err(|error| {
                warn!(account = ?id, %role_arn, %error, "could not assume role");
                format!("assuming {role_arn}: {error}")
            }),
        };
        configs.push((id, config));
    }
    configs
}

pub fn sts_client(config: &SdkConfig, calls: &ApiCalls) -> aws_sdk_sts::Client {
    let conf = aws_sdk_sts::config::Builder::from(config)
        .interceptor(calls.interceptor("sts"))
        .build();
    aws_sdk_sts::Client::from_conf(conf)
}

/// Credentials of a member account, through `sts:AssumeRole`.
async fn assume_role(
    sdk: &SdkConfig,
    role_arn: &str,
    calls: &ApiCalls,
) -> Result<SdkConfig, String> {
    let out = sts_client(sdk, calls)
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(SESSION_NAME)
        .send()
        .await
        .map_err(|e| error_text(&e))?;
    let creds = out
        .credentials()
        .ok_or("AssumeRole returned no credentials")?;
    let credentials = Credentials::new(
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(creds.session_token().to_string()),
        std::time::SystemTime::try_from(*creds.expiration()).ok(),
        "driftd-assume-role",
    );
    Ok(sdk
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .build())
}
