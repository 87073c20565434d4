// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The cheatcodes the deployment scripts use (forge-std is not available offline). Separate from the tests'
/// `Vm` so scripts only see what is safe to broadcast with (no etch/deal/prank: those cannot become transactions).
/// @dev Signatures copied from forge-std `src/Vm.sol` (`VmSafe`); a cheatcode is matched by selector, so names and
/// parameter types must be exact. The cheatcode contract lives at `address(uint160(uint256(keccak256("hevm cheat
/// code"))))`.
interface ScriptVm {
    // ---------------------------------------------------------------- broadcasting
    /// @dev With no argument the sender is the script's sender: the `--private-key` wallet.
    function startBroadcast() external;
    function stopBroadcast() external;

    // ---------------------------------------------------------------- keys
    function deriveKey(string calldata mnemonic, uint32 index) external pure returns (uint256 privateKey);
    function addr(uint256 privateKey) external pure returns (address keyAddr);

    // ---------------------------------------------------------------- artifacts, files, environment
    function getCode(string calldata artifactPath) external view returns (bytes memory creationBytecode);
    function envOr(string calldata name, string calldata defaultValue) external returns (string memory value);

    // ---------------------------------------------------------------- JSON writing
    function serializeAddress(string calldata objectKey, string calldata valueKey, address value)
        external
        returns (string memory json);
    function serializeAddress(string calldata objectKey, string calldata valueKey, address[] calldata values)
        external
        returns (string memory json);
    function serializeUint(string calldata objectKey, string calldata valueKey, uint256 value)
        external
        returns (string memory json);
    /// @dev A `value` that parses as JSON is nested as an object (how nested objects are built).
    function serializeString(string calldata objectKey, string calldata valueKey, string calldata value)
        external
        returns (string memory json);
    function writeJson(string calldata json, string calldata path) external;
}
