//! A person's own devices: which devices are theirs ([`list`]).

pub mod list;

pub use list::{
    check_name, Device, DeviceList, DeviceListError, Revocation, SignedDeviceList, Update,
};
