`default_nettype none

// The virtio logic of a virtio-mmio endpoint (VirtioCore, QueueStore and the register handlers of
// VirtioMmioEndpointModel in the model): the external registers of virtio_mmio and the q_*
// registers of fw_csr over one store per queue, feature words, the FEATURES_OK check, device
// reset, QueueNotify, InterruptStatus and InterruptACK, config changes (generation, the config
// cause) and the events the driver's writes raise. ep_virtio_core is the same for virtio-pci.
// Events leave on one push port, held until granted: a register write that raises one is
// acknowledged with the grant; status writes and notifications, which the register block reports
// after the write, push from one-entry holding registers. Every cause firmware raises (isr_set,
// status_set) counts one interrupt message on raise_o.
module ep_virtio_mmio_core #(
  parameter int unsigned Queues = 2
) (
  input  wire logic clk_i,
  input  wire logic rst_ni,
  input  wire virtio_mmio_reg_pkg::virtio_mmio_reg2hw_t mmio_reg2hw_i,
  output virtio_mmio_reg_pkg::virtio_mmio_hw2reg_t      mmio_hw2reg_o,  // identity and SHM registers: the endpoint's
  input  wire fw_csr_reg_pkg::fw_csr_reg2hw_t           fw_reg2hw_i,
  // fw_csr: what this logic drives of fw_csr's hw2reg (the rest is the endpoint's)
  output logic [63:0]         drv_features_o,
  output logic                drv_features_de_o,
  output logic [7:0]          device_status_o,
  output logic                device_status_de_o,
  output fw_csr_reg_pkg::fw_csr_hw2reg_q_max_size_t    q_max_size_o,
  output fw_csr_reg_pkg::fw_csr_hw2reg_q_state_t       q_state_o,
  output fw_csr_reg_pkg::fw_csr_hw2reg_q_msix_vector_t q_msix_vector_o,
  output fw_csr_reg_pkg::fw_csr_hw2reg_q_desc_t        q_desc_o,
  output fw_csr_reg_pkg::fw_csr_hw2reg_q_driver_t      q_driver_o,
  output fw_csr_reg_pkg::fw_csr_hw2reg_q_device_t      q_device_o,
  // Event push (kind, data), held until granted
  output logic                evt_push_o,
  output logic [7:0]          evt_kind_o,
  output logic [31:0]         evt_data_o,
  input  wire logic           evt_grant_i,
  // Interrupt causes raised this clock (0, 1 or 2: a queue and a config cause in one isr_set)
  output logic [1:0]          raise_o
);

  localparam int unsigned QW = Queues > 1 ? $clog2(Queues) : 1;
  localparam logic [15:0] NoVector = 16'hffff;
  localparam logic [7:0]  FeaturesOk = 8'h08;
  localparam logic [7:0]  NeedsReset = 8'h40;
  localparam int unsigned Version1 = 32;  // VIRTIO_F_VERSION_1

  // ---- storage ----
  logic [16*Queues-1:0]    max_size_q, size_q;            // queue q in bits 16*q+15:16*q
  logic [Queues-1:0]       enabled_q, reset_pending_q;
  logic [64*Queues-1:0]    desc_q, driver_q, device_q;    // queue q in bits 64*q+63:64*q
  logic [63:0]             accepted_q;
  logic [7:0]              generation_q;
  logic                    status_wr_q;  // Status was written last clock; q now holds it
  logic                    notify_wr_q;  // QueueNotify was written last clock
  logic                    ack_wr_q;     // InterruptACK was written last clock
  logic                    status_evt_q; // STATUS_WRITE waiting for the FIFO
  logic [7:0]              status_evt_data_q;
  logic                    notify_evt_q; // QUEUE_NOTIFY waiting for the FIFO
  logic [31:0]             notify_evt_data_q;

  logic [16*Queues-1:0]    max_size_d, size_d;
  logic [Queues-1:0]       enabled_d, reset_pending_d;
  logic [64*Queues-1:0]    desc_d, driver_d, device_d;
  logic [63:0]             accepted_d;
  logic [7:0]              generation_d;
  logic                    status_evt_d, notify_evt_d;
  logic [7:0]              status_evt_data_d;
  logic [31:0]             notify_evt_data_d;

  // (Functions in the Verilog-2005 form: Yosys 0.23 takes no 'return'.)
  function automatic [15:0] merge16(input [15:0] old, input [15:0] wdata, input [1:0] be);
    merge16 = {be[1] ? wdata[15:8] : old[15:8], be[0] ? wdata[7:0] : old[7:0]};
  endfunction

  function automatic [31:0] merge32(input [31:0] old, input [31:0] wdata, input [3:0] be);
    for (int b = 0; b < 4; b++) merge32[8*b+:8] = be[b] ? wdata[8*b+:8] : old[8*b+:8];
  endfunction

  // ---- the selected queues ----
  logic [15:0] s_max, s_size, fs_max, fs_size, ns_max;
  logic [63:0] s_desc, s_driver, s_device, fs_desc, fs_driver, fs_device;
  logic        s_enabled, s_reset_pending, fs_enabled, fs_reset_pending;
  logic [31:0]   sel;       // QueueSel (driver)
  logic [15:0]   fw_sel;    // q_sel (firmware)
  logic [QW-1:0] s, fs;
  logic          exists;    // the driver's queue exists
  logic          fw_in;     // the firmware's queue is described
  assign sel    = mmio_reg2hw_i.queue_sel.queue_sel.q;
  assign fw_sel = fw_reg2hw_i.q_sel.index.q;
  assign s      = sel[QW-1:0];
  assign fs     = fw_sel[QW-1:0];
  assign exists = sel < 32'(Queues) && s_max != 16'h0;
  assign fw_in  = fw_sel < 16'(Queues);

  // QueueNotify names its queue in the low half of the value written.
  logic [31:0]   notify_value;
  logic [QW-1:0] ns;
  logic          notify_exists;
  assign notify_value  = mmio_reg2hw_i.queue_notify.queue_notify.q;
  assign ns            = notify_value[QW-1:0];
  assign notify_exists = notify_value[15:0] < 16'(Queues) && ns_max != 16'h0;

  // The driver's (s_*), firmware's (fs_*) and QueueNotify's (ns_*) queue; no vectors on virtio-mmio.
  ep_queue_sel #(.Queues(Queues), .QW(QW)) u_s (
    .idx_i(s), .max_size_i(max_size_q), .size_i(size_q), .vector_i('0), .desc_i(desc_q),
    .driver_i(driver_q), .device_i(device_q), .enabled_i(enabled_q), .reset_pending_i(reset_pending_q),
    .max_size_o(s_max), .size_o(s_size), .vector_o(), .desc_o(s_desc), .driver_o(s_driver),
    .device_o(s_device), .enabled_o(s_enabled), .reset_pending_o(s_reset_pending)
  );
  ep_queue_sel #(.Queues(Queues), .QW(QW)) u_fs (
    .idx_i(fs), .max_size_i(max_size_q), .size_i(size_q), .vector_i('0), .desc_i(desc_q),
    .driver_i(driver_q), .device_i(device_q), .enabled_i(enabled_q), .reset_pending_i(reset_pending_q),
    .max_size_o(fs_max), .size_o(fs_size), .vector_o(), .desc_o(fs_desc), .driver_o(fs_driver),
    .device_o(fs_device), .enabled_o(fs_enabled), .reset_pending_o(fs_reset_pending)
  );
  ep_queue_sel #(.Queues(Queues), .QW(QW)) u_ns (
    .idx_i(ns), .max_size_i(max_size_q), .size_i('0), .vector_i('0), .desc_i('0), .driver_i('0),
    .device_i('0), .enabled_i('0), .reset_pending_i('0), .max_size_o(ns_max), .size_o(), .vector_o(),
    .desc_o(), .driver_o(), .device_o(), .enabled_o(), .reset_pending_o()
  );

  // ---- events: one push port ----
  logic        feat_evt, enable_evt, reset_evt;  // a register write wants to push
  logic [31:0] dsel;                             // DriverFeaturesSel
  assign dsel       = mmio_reg2hw_i.driver_features_sel.driver_features_sel.q;
  assign feat_evt   = mmio_reg2hw_i.driver_features.we && dsel < 32'd2;
  assign enable_evt = mmio_reg2hw_i.queue_ready.we && mmio_reg2hw_i.queue_ready.wdata[0] &&
                      exists && !s_enabled;
  assign reset_evt  = mmio_reg2hw_i.queue_reset.we && mmio_reg2hw_i.queue_reset.wdata == 32'd1 &&
                      exists && !s_reset_pending;

  always_comb begin
    evt_push_o = 1'b1;
    evt_kind_o = 8'h0;
    evt_data_o = 32'h0;
    if (status_evt_q) begin
      evt_kind_o = fw_csr_reg_pkg::FW_EVENT_KIND_STATUS_WRITE;
      evt_data_o = 32'(status_evt_data_q);
    end else if (notify_evt_q) begin
      evt_kind_o = fw_csr_reg_pkg::FW_EVENT_KIND_QUEUE_NOTIFY;
      evt_data_o = notify_evt_data_q;
    end else if (feat_evt) begin
      evt_kind_o = fw_csr_reg_pkg::FW_EVENT_KIND_FEATURES_WRITE;
      evt_data_o = dsel;
    end else if (enable_evt) begin
      evt_kind_o = fw_csr_reg_pkg::FW_EVENT_KIND_QUEUE_ENABLE;
      evt_data_o = sel;
    end else if (reset_evt) begin
      evt_kind_o = fw_csr_reg_pkg::FW_EVENT_KIND_QUEUE_RESET;
      evt_data_o = sel;
    end else begin
      evt_push_o = 1'b0;
    end
  end
  logic ext_grant;  // the register write's event (if any) is in the FIFO
  assign ext_grant = evt_grant_i && !status_evt_q && !notify_evt_q;

  // ---- device status, interrupts, config changes ----
  logic [7:0] status;       // Status as the block holds it
  logic       reset_dev;    // the driver wrote 0: device reset
  logic       features_ok;  // accepted features acceptable for FEATURES_OK
  logic       needs_reset;  // firmware's status_set
  logic       queue_raise;  // firmware's isr_set.queue
  logic       cfg_change;   // generation++, the config cause
  logic [63:0] dev_features;
  assign dev_features = fw_reg2hw_i.dev_features.offered.q;
  assign status       = mmio_reg2hw_i.status.status.q;
  assign reset_dev    = status_wr_q && status == 8'h0;
  assign features_ok  = (accepted_q & ~dev_features) == 64'h0 && accepted_q[Version1];
  assign needs_reset  = fw_reg2hw_i.status_set.needs_reset.q;
  assign queue_raise  = fw_reg2hw_i.isr_set.queue.q;
  assign cfg_change   = fw_reg2hw_i.isr_set.config_change.q || needs_reset;
  assign raise_o      = 2'(queue_raise) + 2'(cfg_change);

  logic [7:0] kept;  // the status a driver write keeps
  assign kept = (status_wr_q && status != 8'h0 && (status & FeaturesOk) != 8'h0 && !features_ok) ?
                status & ~FeaturesOk : status;

  logic [31:0] ack_value;  // InterruptACK as written
  assign ack_value = mmio_reg2hw_i.interrupt_ack.interrupt_ack.q;

  always_comb begin
    mmio_hw2reg_o = '0;
    mmio_hw2reg_o.device_features.ack = 1'b1;
    if (mmio_reg2hw_i.device_features_sel.device_features_sel.q == 32'd0) mmio_hw2reg_o.device_features.rdata = dev_features[31:0];
    else if (mmio_reg2hw_i.device_features_sel.device_features_sel.q == 32'd1) mmio_hw2reg_o.device_features.rdata = dev_features[63:32];
    mmio_hw2reg_o.driver_features.ack   = !feat_evt || ext_grant;
    mmio_hw2reg_o.queue_num_max.ack     = 1'b1;
    mmio_hw2reg_o.queue_num_max.rdata   = exists ? 32'(s_max) : 32'h0;
    mmio_hw2reg_o.queue_num.ack         = 1'b1;
    mmio_hw2reg_o.queue_ready.ack       = !enable_evt || ext_grant;
    mmio_hw2reg_o.queue_ready.rdata     = 32'(exists && s_enabled);
    mmio_hw2reg_o.queue_desc_low.ack    = 1'b1;
    mmio_hw2reg_o.queue_desc_high.ack   = 1'b1;
    mmio_hw2reg_o.queue_driver_low.ack  = 1'b1;
    mmio_hw2reg_o.queue_driver_high.ack = 1'b1;
    mmio_hw2reg_o.queue_device_low.ack  = 1'b1;
    mmio_hw2reg_o.queue_device_high.ack = 1'b1;
    mmio_hw2reg_o.queue_reset.ack       = !reset_evt || ext_grant;
    mmio_hw2reg_o.queue_reset.rdata     = 32'(exists && s_reset_pending);
    mmio_hw2reg_o.config_generation.config_generation.d  = 32'(generation_d);
    mmio_hw2reg_o.config_generation.config_generation.de = 1'b1;
    // A raised cause sets its bit; InterruptACK and a device reset clear them.
    mmio_hw2reg_o.interrupt_status.used_buffer.set   = queue_raise;
    mmio_hw2reg_o.interrupt_status.config_change.set = cfg_change;
    mmio_hw2reg_o.interrupt_status.used_buffer.clr   = (ack_wr_q && ack_value[0]) || reset_dev;
    mmio_hw2reg_o.interrupt_status.config_change.clr = (ack_wr_q && ack_value[1]) || reset_dev;
    mmio_hw2reg_o.status.status.d  = kept;
    mmio_hw2reg_o.status.status.de = status_wr_q && kept != status;
    if (needs_reset) begin
      mmio_hw2reg_o.status.status.d  = status | NeedsReset;
      mmio_hw2reg_o.status.status.de = 1'b1;
    end
  end

  assign device_status_o    = needs_reset ? status | NeedsReset : kept;
  assign device_status_de_o = status_wr_q || needs_reset;
  assign drv_features_o     = accepted_d;
  assign drv_features_de_o  = 1'b1;

  // ---- firmware's q_* registers (the mmio transport has no queue vectors) ----
  always_comb begin
    q_max_size_o.ack = 1'b1;
    q_max_size_o.rdata = fw_in ? 32'(fs_max) : 32'h0;
    q_state_o.ack = 1'b1;
    q_state_o.rdata = fw_in ? {14'h0, fs_reset_pending, fs_enabled, fs_size} : 32'h0;
    q_msix_vector_o.ack = 1'b1;
    q_msix_vector_o.rdata = 32'(NoVector);
    q_desc_o.ack = 1'b1;
    q_desc_o.rdata = fw_in ? fs_desc : 64'h0;
    q_driver_o.ack = 1'b1;
    q_driver_o.rdata = fw_in ? fs_driver : 64'h0;
    q_device_o.ack = 1'b1;
    q_device_o.rdata = fw_in ? fs_device : 64'h0;
  end

  // ---- next state ----
  always_comb begin
    max_size_d        = max_size_q;
    size_d            = size_q;
    enabled_d         = enabled_q;
    reset_pending_d   = reset_pending_q;
    desc_d            = desc_q;
    driver_d          = driver_q;
    device_d          = device_q;
    accepted_d        = accepted_q;
    generation_d      = generation_q;
    status_evt_d      = status_evt_q;
    status_evt_data_d = status_evt_data_q;
    notify_evt_d      = notify_evt_q;
    notify_evt_data_d = notify_evt_data_q;

    if (status_evt_q && evt_grant_i) status_evt_d = 1'b0;
    else if (notify_evt_q && evt_grant_i) notify_evt_d = 1'b0;

    // Driver writes of the selected queue (each acknowledged in the clock it is made).
    for (int unsigned q = 0; q < Queues; q++) begin
      if (exists && s == QW'(q)) begin
        if (mmio_reg2hw_i.queue_num.we && !enabled_q[q])
          size_d[16*q+:16] = merge16(s_size, mmio_reg2hw_i.queue_num.wdata[15:0], mmio_reg2hw_i.queue_num.be[1:0]);
        if (mmio_reg2hw_i.queue_ready.we && !mmio_reg2hw_i.queue_ready.wdata[0]) enabled_d[q] = 1'b0;
        if (mmio_reg2hw_i.queue_desc_low.we)
          desc_d[64*q+:32] = merge32(s_desc[31:0], mmio_reg2hw_i.queue_desc_low.wdata, mmio_reg2hw_i.queue_desc_low.be);
        if (mmio_reg2hw_i.queue_desc_high.we)
          desc_d[64*q+32+:32] = merge32(s_desc[63:32], mmio_reg2hw_i.queue_desc_high.wdata, mmio_reg2hw_i.queue_desc_high.be);
        if (mmio_reg2hw_i.queue_driver_low.we)
          driver_d[64*q+:32] = merge32(s_driver[31:0], mmio_reg2hw_i.queue_driver_low.wdata, mmio_reg2hw_i.queue_driver_low.be);
        if (mmio_reg2hw_i.queue_driver_high.we)
          driver_d[64*q+32+:32] = merge32(s_driver[63:32], mmio_reg2hw_i.queue_driver_high.wdata, mmio_reg2hw_i.queue_driver_high.be);
        if (mmio_reg2hw_i.queue_device_low.we)
          device_d[64*q+:32] = merge32(s_device[31:0], mmio_reg2hw_i.queue_device_low.wdata, mmio_reg2hw_i.queue_device_low.be);
        if (mmio_reg2hw_i.queue_device_high.we)
          device_d[64*q+32+:32] = merge32(s_device[63:32], mmio_reg2hw_i.queue_device_high.wdata, mmio_reg2hw_i.queue_device_high.be);
        if (enable_evt && ext_grant) enabled_d[q] = 1'b1;
        if (reset_evt && ext_grant) reset_pending_d[q] = 1'b1;
      end
    end
    if (feat_evt && ext_grant) begin
      for (int unsigned b = 0; b < 8; b++) begin
        if (dsel[0] == b[2] && mmio_reg2hw_i.driver_features.be[b%4])
          accepted_d[8*b+:8] = mmio_reg2hw_i.driver_features.wdata[8*(b%4)+:8];
      end
    end

    // Firmware: q_max_size (a queue not yet enabled takes it as its size) and q_reset_done.
    for (int unsigned q = 0; q < Queues; q++) begin
      if (fw_in && fs == QW'(q)) begin
        if (fw_reg2hw_i.q_max_size.we) begin
          max_size_d[16*q+:16] = merge16(fs_max, fw_reg2hw_i.q_max_size.wdata[15:0], fw_reg2hw_i.q_max_size.be[1:0]);
          if (!enabled_q[q]) size_d[16*q+:16] = max_size_d[16*q+:16];
        end
        if (fw_reg2hw_i.q_reset_done.done.q && reset_pending_q[q]) begin
          size_d[16*q+:16]   = max_size_q[16*q+:16];
          enabled_d[q]       = 1'b0;
          reset_pending_d[q] = 1'b0;
          desc_d[64*q+:64]   = '0;
          driver_d[64*q+:64] = '0;
          device_d[64*q+:64] = '0;
        end
      end
    end

    // QueueNotify written: a queue that exists hears QUEUE_NOTIFY with the value written.
    if (notify_wr_q && notify_exists) begin
      notify_evt_d      = 1'b1;
      notify_evt_data_d = notify_value;
    end

    // Status written: 0 resets the device; firmware hears STATUS_WRITE with the value written.
    if (status_wr_q) begin
      status_evt_d      = 1'b1;
      status_evt_data_d = status;
      if (reset_dev) begin
        for (int unsigned q = 0; q < Queues; q++) begin
          size_d[16*(q) +: 16]   = max_size_q[16*(q) +: 16];
          enabled_d[q]           = 1'b0;
          reset_pending_d[q]     = 1'b0;
          desc_d[64*(q) +: 64]   = '0;
          driver_d[64*(q) +: 64] = '0;
          device_d[64*(q) +: 64] = '0;
        end
        accepted_d = '0;
      end
    end
    if (cfg_change) generation_d = generation_q + 8'd1;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      max_size_q        <= '0;
      size_q            <= '0;
      enabled_q         <= '0;
      reset_pending_q   <= '0;
      desc_q            <= '0;
      driver_q          <= '0;
      device_q          <= '0;
      accepted_q        <= '0;
      generation_q      <= '0;
      status_wr_q       <= 1'b0;
      notify_wr_q       <= 1'b0;
      ack_wr_q          <= 1'b0;
      status_evt_q      <= 1'b0;
      status_evt_data_q <= '0;
      notify_evt_q      <= 1'b0;
      notify_evt_data_q <= '0;
    end else begin
      max_size_q        <= max_size_d;
      size_q            <= size_d;
      enabled_q         <= enabled_d;
      reset_pending_q   <= reset_pending_d;
      desc_q            <= desc_d;
      driver_q          <= driver_d;
      device_q          <= device_d;
      accepted_q        <= accepted_d;
      generation_q      <= generation_d;
      status_wr_q       <= mmio_reg2hw_i.status.status.swmod;
      notify_wr_q       <= mmio_reg2hw_i.queue_notify.queue_notify.swmod;
      ack_wr_q          <= mmio_reg2hw_i.interrupt_ack.interrupt_ack.swmod;
      status_evt_q      <= status_evt_d;
      status_evt_data_q <= status_evt_data_d;
      notify_evt_q      <= notify_evt_d;
      notify_evt_data_q <= notify_evt_data_d;
    end
  end

endmodule

`default_nettype wire
