//! What carries a security group: the network interfaces that use it, and a label a
//! person recognises for what each interface belongs to (a load balancer, an
//! instance, a Lambda function, an ECS task).

use serde::Serialize;

/// One network interface, as `DescribeNetworkInterfaces` describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NetworkInterface {
    pub id: String,
    /// `interface`, `lambda`, `network_load_balancer`, `nat_gateway`, `vpc_endpoint`…
    pub interface_type: Option<String>,
    pub description: Option<String>,
    /// The service that created it (`amazon-elb`, `amazon-rds`), when not the owner.
    pub requester_id: Option<String>,
    /// The ECS service (`cluster/name`) whose task it is, where ECS was read.
    pub ecs_service: Option<String>,
    /// The instance it is attached to, if any, and as which device (0: primary).
    pub instance_id: Option<String>,
    pub device_index: Option<i32>,
    /// Its security groups, sorted.
    pub groups: Vec<String>,
    pub private_ips: Vec<String>,
    pub vpc_id: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
}

impl NetworkInterface {
    /// What the interface stands for, as a person names it: `ELB app/web`,
    /// `lambda fn-name`, `instance i-0abc`, `ecs task eni-0abc`, else its id.
    pub fn carrier(&self) -> String {
        let description = self.description.as_deref().unwrap_or_default();
        // ELB interfaces are described `ELB app/<name>/<id>`, `ELB net/<name>/<id>`,
        // or `ELB <name>` for a classic load balancer.
        if let Some(balancer) = description.strip_prefix("ELB ") {
            let name = match balancer.rsplit_once('/') {
                Some((kind_and_name, _id)) if kind_and_name.contains('/') => kind_and_name,
                _ => balancer,
            };
            return format!("ELB {name}");
        }
        if self.interface_type.as_deref() == Some("lambda")
            || description.starts_with("AWS Lambda VPC ENI-")
        {
            let function = description
                .strip_prefix("AWS Lambda VPC ENI-")
                .map(without_uuid_suffix)
                .filter(|f| !f.is_empty());
            return match function {
                Some(function) => format!("lambda {function}"),
                None => format!("lambda {}", self.id),
            };
        }
        if let Some(instance) = &self.instance_id {
            return format!("instance {instance}");
        }
        if let Some(service) = &self.ecs_service {
            return CarrierRef::EcsService(service.clone()).label();
        }
        // An awsvpc task's interface is described by its attachment's ARN.
        if description.starts_with("arn:aws:ecs:") && description.contains(":attachment/") {
            return format!("ecs task {}", self.id);
        }
        let kind = match self.interface_type.as_deref() {
            Some("nat_gateway") => Some("NAT gateway"),
            Some("vpc_endpoint") => Some("VPC endpoint"),
            Some("network_load_balancer") => Some("NLB"),
            Some("gateway_load_balancer_endpoint") => Some("GWLB endpoint"),
            _ => None,
        };
        match (kind, self.requester_id.as_deref()) {
            (Some(kind), _) => format!("{kind} {}", self.id),
            (None, Some("amazon-rds")) => format!("RDS {}", self.id),
            _ => self.id.clone(),
        }
    }
}

/// Something IaC declares security groups for, as the interfaces that carry them
/// show it: a load balancer (`app/<name>/<id>` of its ARN), an instance (its primary
/// interface), a network interface, a Lambda function (by name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum CarrierRef {
    LoadBalancer(String),
    Instance(String),
    Interface(String),
    Lambda(String),
    /// `cluster/name`.
    EcsService(String),
}

impl CarrierRef {
    /// A load balancer from its ARN (`…:loadbalancer/app/web/50dc…`).
    pub fn load_balancer(arn: &str) -> Option<CarrierRef> {
        let (_, key) = arn.split_once(":loadbalancer/")?;
        Some(CarrierRef::LoadBalancer(key.to_string()))
    }

    /// The carrier a finding's `resource` (`type`, `id`) names, if it names one.
    pub fn from_resource(kind: &str, id: &str) -> Option<CarrierRef> {
        let id = id.to_string();
        Some(match kind {
            "load_balancer" => CarrierRef::LoadBalancer(id),
            "instance" => CarrierRef::Instance(id),
            "network_interface" => CarrierRef::Interface(id),
            "lambda_function" => CarrierRef::Lambda(id),
            "ecs_service" => CarrierRef::EcsService(id),
            _ => return None,
        })
    }

    /// The report's `resource.id`: the load balancer's `app/<name>/<id>`, the
    /// instance, interface or function name, the service's `cluster/name`.
    pub fn id(&self) -> &str {
        match self {
            CarrierRef::LoadBalancer(id)
            | CarrierRef::Instance(id)
            | CarrierRef::Interface(id)
            | CarrierRef::Lambda(id)
            | CarrierRef::EcsService(id) => id,
        }
    }

    /// The report's `resource.type`.
    pub fn resource_type(&self) -> &'static str {
        match self {
            CarrierRef::LoadBalancer(_) => "load_balancer",
            CarrierRef::Instance(_) => "instance",
            CarrierRef::Interface(_) => "network_interface",
            CarrierRef::Lambda(_) => "lambda_function",
            CarrierRef::EcsService(_) => "ecs_service",
        }
    }

    /// As a person names it: `ELB app/web`, `instance i-0abc`, `eni-0abc`,
    /// `lambda orders-api` (the same words as `NetworkInterface::carrier`).
    pub fn label(&self) -> String {
        match self {
            CarrierRef::LoadBalancer(key) => {
                let name = key.rsplit_once('/').map_or(key.as_str(), |(name, _)| name);
                format!("ELB {name}")
            }
            CarrierRef::Instance(id) => format!("instance {id}"),
            CarrierRef::Interface(id) => id.clone(),
            CarrierRef::Lambda(name) => format!("lambda {name}"),
            CarrierRef::EcsService(service) => format!("ecs service {service}"),
        }
    }
}

impl NetworkInterface {
    /// What IaC may declare this interface's groups through: the interface itself,
    /// and the load balancer, instance (as its primary interface) or function it
    /// stands for.
    pub fn carrier_refs(&self) -> Vec<CarrierRef> {
        let mut refs = vec![CarrierRef::Interface(self.id.clone())];
        let description = self.description.as_deref().unwrap_or_default();
        if let Some(key) = description.strip_prefix("ELB ")
            && key.matches('/').count() == 2
        {
            refs.push(CarrierRef::LoadBalancer(key.to_string()));
        }
        if let (Some(instance), Some(0)) = (&self.instance_id, self.device_index) {
            refs.push(CarrierRef::Instance(instance.clone()));
        }
        if let Some(service) = &self.ecs_service {
            refs.push(CarrierRef::EcsService(service.clone()));
        }
        if let Some(rest) = description.strip_prefix("AWS Lambda VPC ENI-") {
            let function = without_uuid_suffix(rest);
            if function.len() < rest.len() {
                refs.push(CarrierRef::Lambda(function.to_string()));
            }
        }
        refs
    }
}

impl NetworkInterface {
    /// Whether the interface is one of `carrier`'s (as `carrier_refs` would list
    /// it, without building the list: flows ask this of every interface).
    pub fn stands_for(&self, carrier: &CarrierRef) -> bool {
        let description = self.description.as_deref().unwrap_or_default();
        match carrier {
            CarrierRef::Interface(id) => self.id == *id,
            CarrierRef::LoadBalancer(key) => description.strip_prefix("ELB ") == Some(key.as_str()),
            CarrierRef::Instance(id) => {
                self.device_index == Some(0) && self.instance_id.as_deref() == Some(id.as_str())
            }
            CarrierRef::EcsService(service) => self.ecs_service.as_ref() == Some(service),
            CarrierRef::Lambda(name) => description
                .strip_prefix("AWS Lambda VPC ENI-")
                .is_some_and(|rest| rest.len() > name.len() && without_uuid_suffix(rest) == name),
        }
    }
}

/// `my-function-0f3c9a2e-…` without the UUID Lambda appends to its interfaces'
/// descriptions.
fn without_uuid_suffix(text: &str) -> &str {
    const UUID_LEN: usize = 36;
    let looks_like_uuid = |tail: &str| {
        tail.len() == UUID_LEN
            && tail.chars().enumerate().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => c == '-',
                _ => c.is_ascii_hexdigit(),
            })
    };
    match text.len().checked_sub(UUID_LEN + 1) {
        Some(at)
            if text.is_char_boundary(at)
                && text[at..].starts_with('-')
                && looks_like_uuid(&text[at + 1..]) =>
        {
            &text[..at]
        }
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interface(description: &str) -> NetworkInterface {
        NetworkInterface {
            id: "eni-0123".into(),
            interface_type: Some("interface".into()),
            description: Some(description.into()),
            ..NetworkInterface::default()
        }
    }

    #[test]
    fn carriers_are_named_as_aws_describes_them() {
        // Descriptions as AWS writes them on the interfaces it creates.
        assert_eq!(
            interface("ELB app/web/50dc6c495c0c9188").carrier(),
            "ELB app/web"
        );
        assert_eq!(
            interface("ELB net/edge/0aa9c5c7f2c2b1e1").carrier(),
            "ELB net/edge"
        );
        assert_eq!(interface("ELB classic-web").carrier(), "ELB classic-web");
        let lambda = NetworkInterface {
            interface_type: Some("lambda".into()),
            ..interface("AWS Lambda VPC ENI-orders-api-4f6a7c2e-1b3d-4e5f-8a9b-0c1d2e3f4a5b")
        };
        assert_eq!(lambda.carrier(), "lambda orders-api");
        let instance = NetworkInterface {
            instance_id: Some("i-0abc".into()),
            ..interface("")
        };
        assert_eq!(instance.carrier(), "instance i-0abc");
        assert_eq!(
            interface(
                "arn:aws:ecs:us-east-1:123456789012:attachment/4f6a7c2e-1b3d-4e5f-8a9b-0c1d2e3f4a5b"
            )
            .carrier(),
            "ecs task eni-0123"
        );
        let nat = NetworkInterface {
            interface_type: Some("nat_gateway".into()),
            ..interface("Interface for NAT Gateway nat-0abc")
        };
        assert_eq!(nat.carrier(), "NAT gateway eni-0123");
        assert_eq!(interface("").carrier(), "eni-0123");
        assert_eq!(interface("my own interface").carrier(), "eni-0123");
    }

    #[test]
    fn an_interface_is_found_by_what_iac_declares_groups_for() {
        let alb = interface("ELB app/web/50dc6c495c0c9188");
        let arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188";
        let declared = CarrierRef::load_balancer(arn).unwrap();
        assert!(alb.carrier_refs().contains(&declared));
        assert_eq!(declared.label(), alb.carrier());
        let primary = NetworkInterface {
            instance_id: Some("i-0abc".into()),
            device_index: Some(0),
            ..interface("")
        };
        assert!(
            primary
                .carrier_refs()
                .contains(&CarrierRef::Instance("i-0abc".into()))
        );
        let secondary = NetworkInterface {
            device_index: Some(1),
            ..primary.clone()
        };
        assert_eq!(
            secondary.carrier_refs(),
            [CarrierRef::Interface("eni-0123".into())]
        );
        let lambda =
            interface("AWS Lambda VPC ENI-orders-api-4f6a7c2e-1b3d-4e5f-8a9b-0c1d2e3f4a5b");
        assert!(
            lambda
                .carrier_refs()
                .contains(&CarrierRef::Lambda("orders-api".into()))
        );
        assert_eq!(
            CarrierRef::Lambda("orders-api".into()).label(),
            "lambda orders-api"
        );
        // A classic load balancer's interface names no ARN key.
        assert_eq!(
            interface("ELB classic-web").carrier_refs(),
            [CarrierRef::Interface("eni-0123".into())]
        );
    }

    #[test]
    fn stands_for_agrees_with_carrier_refs() {
        let interfaces = [
            interface("ELB app/web/50dc6c495c0c9188"),
            interface("ELB classic-web"),
            interface("AWS Lambda VPC ENI-orders-api-4f6a7c2e-1b3d-4e5f-8a9b-0c1d2e3f4a5b"),
            NetworkInterface {
                instance_id: Some("i-0abc".into()),
                device_index: Some(0),
                ..interface("")
            },
            NetworkInterface {
                instance_id: Some("i-0abc".into()),
                device_index: Some(1),
                ..interface("")
            },
        ];
        let carriers = [
            CarrierRef::LoadBalancer("app/web/50dc6c495c0c9188".into()),
            CarrierRef::LoadBalancer("app/other/1".into()),
            CarrierRef::Lambda("orders-api".into()),
            CarrierRef::Lambda("orders".into()),
            CarrierRef::Instance("i-0abc".into()),
            CarrierRef::Interface("eni-0123".into()),
            CarrierRef::Interface("eni-9".into()),
        ];
        for i in &interfaces {
            for c in &carriers {
                assert_eq!(i.stands_for(c), i.carrier_refs().contains(c), "{i:?} {c:?}");
            }
        }
    }

    #[test]
    fn only_a_real_uuid_is_cut_from_a_function_name() {
        assert_eq!(
            without_uuid_suffix("fn-4f6a7c2e-1b3d-4e5f-8a9b-0c1d2e3f4a5b"),
            "fn"
        );
        assert_eq!(without_uuid_suffix("fn-not-a-uuid"), "fn-not-a-uuid");
        assert_eq!(without_uuid_suffix("ü"), "ü");
    }
}
