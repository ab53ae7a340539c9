"""The task: intake, the file inventory, the data view scripts see, dialects and archives."""
