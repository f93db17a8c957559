// Pre-join: camera preview, microphone level, device choice, and the in-call device
// settings dialog. English; merged into `t` by strings.ts.
export const prejoinText = {
  prejoinLead: 'Check how you look and sound, then join when you are ready.',
  prejoinNameHelp: 'This is the name the others will see.',
  // Device choice (pre-join and the Settings dialog).
  deviceCamera: 'Camera',
  deviceMicrophone: 'Microphone',
  deviceSpeaker: 'Speaker',
  // Shown when the browser does not tell device names yet (before permission).
  deviceFallback: {
    camera: (n: number) => `Camera ${n}`,
    microphone: (n: number) => `Microphone ${n}`,
    speaker: (n: number) => `Speaker ${n}`,
  },
  deviceSystemDefault: 'System default',
  deviceNone: {
    camera: 'No camera found',
    microphone: 'No microphone found',
    speaker: 'No speaker found',
  },
  deviceMicLevel: 'Microphone level',
  // Pre-join choices, remembered on this device.
  prejoinMicOff: 'Join with microphone off',
  prejoinCameraOff: 'Join with camera off',
  // The preview's placeholder.
  prejoinPreviewLabel: 'Your camera preview',
  prejoinCameraIsOff: 'Camera is off',
  prejoinCameraStarting: 'Starting camera\u2026',
  prejoinNoCamera: 'No camera',
  prejoinMicIsOff: 'Your microphone will be off when you join.',
  // Why the preview could not use a device, and that joining still works.
  prejoinBothProblem: {
    denied:
      'Your browser did not allow the use of the camera and microphone. You can still join to listen and watch. To be seen and heard, allow them in the site settings of your browser and reload this page.',
    not_found: 'No camera or microphone was found. You can still join to listen and watch.',
    in_use:
      'The camera and microphone are in use by another program or could not be started. You can still join to listen and watch, or close the other program and reload this page.',
    insecure:
      'This browser allows the camera and microphone only over a secure (https) connection. You can still join to listen and watch.',
    failed: 'The camera and microphone could not be started. You can still join to listen and watch.',
  },
  prejoinStillJoin: 'You can still join the meeting.',
  // The in-call Settings dialog.
  deviceSettingsTitle: 'Settings',
  deviceSettingsHelp: 'Changes take effect at once.',
  deviceSettingsClose: 'Close',
  deviceSpeakerUnsupported: 'This browser plays sound through the system\u2019s speaker; change it in the system settings.',
  deviceCameraOffHint: 'Your camera is off. The chosen camera is used when you turn it on.',
  deviceMicMutedHint: 'Your microphone is muted, so the level stays empty.',
  deviceSwitchFailed: {
    camera: 'That camera could not be started. Try another one, or close programs that may be using it.',
    microphone: 'That microphone could not be started. Try another one, or close programs that may be using it.',
  },
} as const;
