//! `[[flow]]`: paths that must stay open, checked on every scan.

use std::collections::BTreeSet;

use super::raw::RawFlow;
use super::{Config, Problems};
use crate::model::{Flow, Protocol};

pub fn flows(raw: Vec<RawFlow>, config: &mut Config, problems: &mut Problems) {
    let mut names = BTreeSet::new();
    for (i, raw) in raw.into_iter().enumerate() {
        let path = format!("flow[{i}]");
        // Names identify findings: a repeated one is told even if the rest is wrong.
        let name = raw.name.as_deref().map(str::trim).unwrap_or_default();
        let repeated = !name.is_empty() && !names.insert(name.to_string());
        if repeated {
            problems.add(
                format!("{path}.name"),
                format!("another [[flow]] is named {name:?}: names identify findings"),
            );
        }
        if let Some(flow) = flow(raw, &path, problems)
            && !repeated
        {
            config.flows.push(flow);
        }
    }
}

fn flow(raw: RawFlow, path: &str, problems: &mut Problems) -> Option<Flow> {
    let mut required = |value: Option<String>, key: &str, what: &str| {
        let value = value
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        if value.is_none() {
            problems.add(format!("{path}.{key}"), format!("required: {what}"));
        }
        value
    };
    let name = required(raw.name, "name", "what the path is called in findings");
    let endpoint = "a group id, a group name, or a Terraform address (of a group, aws_lb, aws_instance, aws_network_interface or aws_lambda_function)";
    let from = required(raw.from, "from", endpoint);
    let to = required(raw.to, "to", endpoint);
    let protocol = match Protocol::parse(raw.protocol.as_deref().unwrap_or("tcp")) {
        Ok(protocol) => Some(protocol),
        Err(e) => {
            problems.add(format!("{path}.protocol"), e.to_string());
            None
        }
    };
    let has_ports = matches!(protocol, Some(Protocol::Tcp | Protocol::Udp));
    let port = match (raw.port, has_ports) {
        (Some(port), true) if (0..=65535).contains(&port) => Some(Some(port as i32)),
        (Some(port), true) => {
            problems.add(
                format!("{path}.port"),
                format!("{port} is not a port (0-65535)"),
            );
            None
        }
        (None, true) => {
            problems.add(format!("{path}.port"), "required for tcp and udp");
            None
        }
        (Some(_), false) => {
            problems.add(format!("{path}.port"), "only tcp and udp have ports");
            None
        }
        (None, false) => Some(None),
    };
    Some(Flow {
        name: name?,
        from: from?,
        to: to?,
        protocol: protocol?,
        port: port?,
    })
}
