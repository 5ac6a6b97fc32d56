//! magediag: diagnoses Magento Commerce Cloud deployment logs with declarative rules.

pub mod repair;
