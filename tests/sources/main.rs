//! The readers of intent and live data (`src/sources/`): Terraform states
//! (`terraform_state`), the shared real-world corpus (`corpus`), damaged and crafted
//! documents (`fuzz_readers`), EC2 paging and CloudFormation drift detection against
//! recorded responses (`ec2_paging`, `cloudformation_api`), and the real local AWS
//! endpoint (`aws_live`, `cloudformation_moto`; moto, docs/local-aws.md).

#[path = "../support/mod.rs"]
mod support;

mod attribution;
mod aws_live;
mod cloudformation_api;
mod cloudformation_moto;
mod cloudtrail;
mod corpus;
mod ec2_paging;
mod fuzz_readers;
mod scenario;
mod terraform_state;
