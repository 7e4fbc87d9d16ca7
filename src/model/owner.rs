//! Who declares a resource: a Terraform state and address, a CloudFormation stack
//! and logical id, or nobody. Findings name it; stacks' resources carry it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OwnerKind {
    Terraform,
    Cloudformation,
    None,
}

/// Who declares a resource: a state and address, a stack and logical id, or nobody.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Owner {
    pub kind: OwnerKind,
    pub location: Option<String>,
    pub address: Option<String>,
}

impl Owner {
    pub fn none() -> Owner {
        Owner {
            kind: OwnerKind::None,
            location: None,
            address: None,
        }
    }

    pub fn terraform(location: &str, address: String) -> Owner {
        Owner {
            kind: OwnerKind::Terraform,
            location: Some(location.to_string()),
            address: Some(address),
        }
    }

    /// `module.net.aws_security_group.alb (prod.tfstate)` or `no owner`.
    pub fn label(&self) -> String {
        match (&self.address, &self.location) {
            (Some(a), Some(l)) => format!("{a} ({l})"),
            (Some(a), None) => a.clone(),
            (None, Some(l)) => l.clone(),
            (None, None) => "no owner".to_string(),
        }
    }
}
