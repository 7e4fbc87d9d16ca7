//! The code held to what describes it: imports point one way between layers
//! (`layers`), the finding codes are the contract's and documented in the repository
//! (`contract`), and the deployment files grant and wire exactly what the code needs
//! (`deploy`). Read from the sources and documents, except where the ecosystem's own
//! tools judge a file: `hadolint` the Dockerfile, botocore's validator the ECS files.

mod contract;
mod deploy;
mod layers;
