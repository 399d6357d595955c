`default_nettype none

// A virtio device on PCI (VirtioPciEndpointModel): one ep_pci_function, and in the BAR the
// description names for them the virtio structures: common configuration, the ISR, the notify
// region and, when the description has one, the device configuration (forwarded on devcfg_req_o to
// the personality's register block, at an address relative to the structure), with the virtio logic
// (ep_virtio_core) behind common configuration and fw_csr's queue and feature registers. The
// personality (ism_endpoint_top, dmabuf_endpoint_top) adds its device configuration, the BARs
// other than the virtio and MSI-X ones (dev_req_o), and events of its own (event ports 2 and up;
// 0 is the virtio logic, 1 the notify region). Parameters come from the generated endpoint package.
module ep_virtio_pci #(
  // The PCI function (ep_pci_function)
  parameter bit             EmulateHeader       = 1'b1,
  parameter int unsigned    CfgAw               = 12,
  parameter int unsigned    FwAw                = 12,
  parameter logic [15:0]    VendorId            = '0,
  parameter logic [15:0]    DeviceId            = '0,
  parameter logic [7:0]     RevisionId          = '0,
  parameter logic [7:0]     BaseClass           = '0,
  parameter logic [7:0]     Subclass            = '0,
  parameter logic [7:0]     ProgIf              = '0,
  parameter logic [15:0]    SubsystemVendorId   = '0,
  parameter logic [15:0]    SubsystemId         = '0,
  parameter logic [7:0]     CapPtr              = '0,
  parameter logic [47:0]    BarAw               = 48'h0c0e,
  parameter logic [191:0]   BarWmask            = '0,
  parameter logic [191:0]   BarType             = '0,
  parameter logic [1535:0]  CapRom              = '0,
  parameter logic [11:0]    MsixCapOffset       = 12'h40,
  parameter logic [11:0]    PciCfgCapOffset     = '0,
  parameter int unsigned    MsixVectors         = 1,
  parameter int unsigned    MsixBar             = 1,
  parameter logic [63:0]    MsixTableOffset     = '0,
  parameter logic [63:0]    MsixPbaOffset       = '0,
  parameter int unsigned    EventDepth          = 64,
  parameter logic [7:0]     VirtioDeviceId      = '0,
  parameter int unsigned    ChunkSlots          = 0,
  // The virtio structures, all in BAR VirtioBar
  parameter int unsigned    VirtioBar           = 0,
  parameter int unsigned    Queues              = 2,
  parameter logic [63:0]    CommonOffset        = '0,
  parameter logic [63:0]    CommonLength        = '0,
  parameter logic [63:0]    IsrOffset           = '0,
  parameter logic [63:0]    IsrLength           = '0,
  parameter logic [63:0]    NotifyOffset        = '0,
  parameter logic [63:0]    NotifyLength        = '0,
  parameter int unsigned    NotifyOffMultiplier = 4,
  parameter bit             HasDeviceCfg        = 1'b0,
  parameter logic [63:0]    DeviceCfgOffset     = '0,
  parameter logic [63:0]    DeviceCfgLength     = '0,
  parameter int unsigned    XP                  = 0,  // the personality's event ports
  parameter int unsigned    XPW                 = XP > 0 ? XP : 1  // their port width (not to be set)
) (
  input  wire logic                                 clk_i,
  input  wire logic                                 rst_ni,
  // Host and firmware ports, as ep_pci_function takes them
  input  wire axil_pkg::axil_req_t                  cfg_req_i,
  output axil_pkg::axil_rsp_t                       cfg_rsp_o,
  input  wire logic [6*axil_pkg::AXIL_REQ_W-1:0]    bar_req_i,
  output logic [6*axil_pkg::AXIL_RSP_W-1:0]         bar_rsp_o,
  input  wire axil_pkg::axil_req_t                  fw_req_i,
  output axil_pkg::axil_rsp_t                       fw_rsp_o,
  // The personality's BARs (idle for the virtio, MSI-X and absent BARs)
  output logic [6*axil_pkg::AXIL_REQ_W-1:0]         dev_req_o,
  input  wire logic [6*axil_pkg::AXIL_RSP_W-1:0]    dev_rsp_i,
  // The device configuration's register block (idle without one)
  output axil_pkg::axil_req_t                       devcfg_req_o,
  input  wire axil_pkg::axil_rsp_t                  devcfg_rsp_i,
  output fw_csr_reg_pkg::fw_csr_reg2hw_t            fw_reg2hw_o,
  output logic                                      bus_master_o,
  // The personality's events, ports 2 and up of the event FIFO (unused when XP is 0)
  input  wire logic [XPW-1:0]                       push_i,
  input  wire logic [8*XPW-1:0]                     push_kind_i,
  input  wire logic [32*XPW-1:0]                    push_data_i,
  output logic [XPW-1:0]                            push_grant_o,
  output logic                                      fw_irq_o,
  output logic                                      msi_valid_o,
  input  wire logic                                 msi_ready_i,
  output logic [63:0]                               msi_addr_o,
  output logic [31:0]                               msi_data_o
);

  localparam int unsigned ReqW = axil_pkg::AXIL_REQ_W;
  localparam int unsigned RspW = axil_pkg::AXIL_RSP_W;
  localparam int unsigned Aw   = 32'(BarAw[8*VirtioBar+:8]);  // the virtio BAR's address bits
  localparam int unsigned Vectors = MsixVectors;
  localparam int unsigned N  = HasDeviceCfg ? 3 : 2;
  localparam int unsigned NP = 2 + XP;

  // ---- the PCI function; the virtio BAR's link comes back here ----

  logic [6*ReqW-1:0]   fn_req;
  logic [6*RspW-1:0]   fn_rsp;
  axil_pkg::axil_req_t bar_req;
  axil_pkg::axil_rsp_t bar_rsp;
  fw_csr_reg_pkg::fw_csr_hw2reg_t fw_hw2reg;
  logic                fw_trigger, intx;
  logic                msix_cfg_trigger, msix_clear;
  logic [15:0]         msix_cfg_vector;
  logic [NP-1:0]       evt_push, evt_grant;
  logic [8*NP-1:0]     evt_kind;
  logic [32*NP-1:0]    evt_data;

  ep_pci_function #(
    .EmulateHeader    (EmulateHeader),
    .CfgAw            (CfgAw),
    .FwAw             (FwAw),
    .VendorId         (VendorId),
    .DeviceId         (DeviceId),
    .RevisionId       (RevisionId),
    .BaseClass        (BaseClass),
    .Subclass         (Subclass),
    .ProgIf           (ProgIf),
    .SubsystemVendorId(SubsystemVendorId),
    .SubsystemId      (SubsystemId),
    .CapPtr           (CapPtr),
    .BarAw            (BarAw),
    .BarWmask         (BarWmask),
    .BarType          (BarType),
    .CapRom           (CapRom),
    .MsixCapOffset    (MsixCapOffset),
    .PciCfgCapOffset  (PciCfgCapOffset),
    .MsixVectors      (MsixVectors),
    .MsixBar          (MsixBar),
    .MsixTableOffset  (MsixTableOffset),
    .MsixPbaOffset    (MsixPbaOffset),
    .EventDepth       (EventDepth),
    .NP               (NP),
    .VirtioDeviceId   (VirtioDeviceId),
    .Queues           (Queues),
    .ChunkSlots       (ChunkSlots)
  ) u_fn (
    .clk_i             (clk_i),
    .rst_ni            (rst_ni),
    .cfg_req_i         (cfg_req_i),
    .cfg_rsp_o         (cfg_rsp_o),
    .bar_req_i         (bar_req_i),
    .bar_rsp_o         (bar_rsp_o),
    .fw_req_i          (fw_req_i),
    .fw_rsp_o          (fw_rsp_o),
    .dev_req_o         (fn_req),
    .dev_rsp_i         (fn_rsp),
    .intx_i            (intx),
    .msix_trigger_i    (fw_trigger),  // firmware's msix_trigger sends its vector as it is
    .msix_vector_i     (fw_reg2hw_o.msix_trigger.vector.q),
    .msix_cfg_trigger_i(msix_cfg_trigger),
    .msix_cfg_vector_i (msix_cfg_vector),
    .msix_clear_i      (msix_clear),
    .msix_enable_o     (),
    .bus_master_o      (bus_master_o),
    .fw_reg2hw_o       (fw_reg2hw_o),
    .fw_hw2reg_i       (fw_hw2reg),
    .fw_trigger_o      (fw_trigger),
    .push_i            (evt_push),
    .push_kind_i       (evt_kind),
    .push_data_i       (evt_data),
    .push_grant_o      (evt_grant),
    .fw_irq_o          (fw_irq_o),
    .msi_valid_o       (msi_valid_o),
    .msi_ready_i       (msi_ready_i),
    .msi_addr_o        (msi_addr_o),
    .msi_data_o        (msi_data_o)
  );

  // The virtio BAR is served here; the personality gets the others.
  for (genvar b = 0; b < 6; b++) begin : g_bar
    if (b == VirtioBar) begin : g_virtio
      assign dev_req_o[ReqW*b+:ReqW] = '0;
      assign fn_rsp[RspW*b+:RspW]    = bar_rsp;
    end else begin : g_dev
      assign dev_req_o[ReqW*b+:ReqW] = fn_req[ReqW*b+:ReqW];
      assign fn_rsp[RspW*b+:RspW]    = dev_rsp_i[RspW*b+:RspW];
    end
  end
  assign bar_req = fn_req[ReqW*VirtioBar+:ReqW];

  // The personality's events.
  if (XP > 0) begin : g_events
    assign evt_push[NP-1:2]       = push_i;
    assign evt_kind[8*NP-1:16]    = push_kind_i;
    assign evt_data[32*NP-1:64]   = push_data_i;
    assign push_grant_o           = evt_grant[NP-1:2];
  end else begin : g_no_events
    assign push_grant_o = '0;
  end

  // ---- the virtio structures ----

  function automatic in_window(input [63:0] addr, input [63:0] offset, input [63:0] length);
    in_window = addr >= offset && addr - offset < length;
  endfunction

  virtio_common_cfg_reg_pkg::virtio_common_cfg_reg2hw_t     common_reg2hw;
  virtio_common_cfg_reg_pkg::virtio_common_cfg_hw2reg_t     common_hw2reg;
  virtio_isr_reg_pkg::virtio_isr_reg2hw_t                   isr_reg2hw;
  virtio_isr_reg_pkg::virtio_isr_hw2reg_t                   isr_hw2reg;

  logic [Aw-1:0]      dec_addr, m_addr;
  logic               dec_we;
  logic [N-1:0]       dec_sel;
  logic [31:0]        m_wdata;
  logic [3:0]         m_wstrb;
  logic [N-1:0]       m_awvalid, m_awready, m_wvalid, m_wready;
  logic [N-1:0]       m_bvalid, m_bready, m_arvalid, m_arready;
  logic [32*N-1:0]    m_rdata;
  logic [N-1:0]       m_rvalid, m_rready;
  logic               loc_req, loc_ack;

  ep_axil_demux #(.N(N), .AW(Aw)) u_demux (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .s_req_i    (bar_req),
    .s_rsp_o    (bar_rsp),
    .dec_addr_o (dec_addr),
    .dec_we_o   (dec_we),
    .dec_sel_i  (dec_sel),
    .m_addr_o   (m_addr),
    .m_wdata_o  (m_wdata),
    .m_wstrb_o  (m_wstrb),
    .m_awvalid_o(m_awvalid),
    .m_awready_i(m_awready),
    .m_wvalid_o (m_wvalid),
    .m_wready_i (m_wready),
    .m_bvalid_i (m_bvalid),
    .m_bready_o (m_bready),
    .m_arvalid_o(m_arvalid),
    .m_arready_i(m_arready),
    .m_rdata_i  (m_rdata),
    .m_rvalid_i (m_rvalid),
    .m_rready_o (m_rready),
    .loc_req_o  (loc_req),
    .loc_ack_i  (loc_ack),
    .loc_rdata_i(32'h0)  // the notify region and holes read 0
  );

  logic [63:0] addr;
  logic        notify;  // the local access is in the notify region
  assign addr   = 64'(dec_addr);
  assign notify = in_window(addr, NotifyOffset, NotifyLength);
  always_comb begin
    dec_sel = '0;
    dec_sel[0] = in_window(addr, CommonOffset, CommonLength);
    dec_sel[1] = in_window(addr, IsrOffset, IsrLength);
    if (HasDeviceCfg) dec_sel[N-1] = in_window(addr, DeviceCfgOffset, DeviceCfgLength);
  end

  virtio_common_cfg_reg_top #(.AW(Aw)) u_common (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (Aw'(m_addr - Aw'(CommonOffset))),
    .s_axil_awvalid_i(m_awvalid[0]),
    .s_axil_awready_o(m_awready[0]),
    .s_axil_wdata_i  (m_wdata),
    .s_axil_wstrb_i  (m_wstrb),
    .s_axil_wvalid_i (m_wvalid[0]),
    .s_axil_wready_o (m_wready[0]),
    .s_axil_bresp_o  (),
    .s_axil_bvalid_o (m_bvalid[0]),
    .s_axil_bready_i (m_bready[0]),
    .s_axil_araddr_i (Aw'(m_addr - Aw'(CommonOffset))),
    .s_axil_arvalid_i(m_arvalid[0]),
    .s_axil_arready_o(m_arready[0]),
    .s_axil_rdata_o  (m_rdata[32*0+:32]),
    .s_axil_rresp_o  (),
    .s_axil_rvalid_o (m_rvalid[0]),
    .s_axil_rready_i (m_rready[0]),
    .reg2hw_o        (common_reg2hw),
    .hw2reg_i        (common_hw2reg)
  );

  // The ISR block has no hardware clear; a device reset clears it through its reset.
  logic isr_clear, isr_rst_n;
  assign isr_rst_n = rst_ni && !isr_clear;

  virtio_isr_reg_top #(.AW(Aw)) u_isr (
    .clk_i           (clk_i),
    .rst_ni          (isr_rst_n),
    .s_axil_awaddr_i (Aw'(m_addr - Aw'(IsrOffset))),
    .s_axil_awvalid_i(m_awvalid[1]),
    .s_axil_awready_o(m_awready[1]),
    .s_axil_wdata_i  (m_wdata),
    .s_axil_wstrb_i  (m_wstrb),
    .s_axil_wvalid_i (m_wvalid[1]),
    .s_axil_wready_o (m_wready[1]),
    .s_axil_bresp_o  (),
    .s_axil_bvalid_o (m_bvalid[1]),
    .s_axil_bready_i (m_bready[1]),
    .s_axil_araddr_i (Aw'(m_addr - Aw'(IsrOffset))),
    .s_axil_arvalid_i(m_arvalid[1]),
    .s_axil_arready_o(m_arready[1]),
    .s_axil_rdata_o  (m_rdata[32*1+:32]),
    .s_axil_rresp_o  (),
    .s_axil_rvalid_o (m_rvalid[1]),
    .s_axil_rready_i (m_rready[1]),
    .reg2hw_o        (isr_reg2hw),
    .hw2reg_i        (isr_hw2reg)
  );

  logic isr_queue_set, isr_config_set;
  assign isr_hw2reg.isr.queue_interrupt.set  = isr_queue_set;
  assign isr_hw2reg.isr.config_interrupt.set = isr_config_set;

  // An ISR cause set: the legacy interrupt's level.
  assign intx = isr_reg2hw.isr.queue_interrupt.q || isr_reg2hw.isr.config_interrupt.q;

  // The device configuration: block N-1 of the demux, on the personality's link.
  always_comb begin
    devcfg_req_o = axil_pkg::AXIL_REQ_IDLE;
    if (HasDeviceCfg) begin
      devcfg_req_o.awaddr  = 32'(Aw'(m_addr - Aw'(DeviceCfgOffset)));
      devcfg_req_o.awvalid = m_awvalid[N-1];
      devcfg_req_o.wdata   = m_wdata;
      devcfg_req_o.wstrb   = m_wstrb;
      devcfg_req_o.wvalid  = m_wvalid[N-1];
      devcfg_req_o.bready  = m_bready[N-1];
      devcfg_req_o.araddr  = 32'(Aw'(m_addr - Aw'(DeviceCfgOffset)));
      devcfg_req_o.arvalid = m_arvalid[N-1];
      devcfg_req_o.rready  = m_rready[N-1];
    end
  end
  if (HasDeviceCfg) begin : g_devcfg
    assign m_awready[N-1]        = devcfg_rsp_i.awready;
    assign m_wready[N-1]         = devcfg_rsp_i.wready;
    assign m_bvalid[N-1]         = devcfg_rsp_i.bvalid;
    assign m_arready[N-1]        = devcfg_rsp_i.arready;
    assign m_rdata[32*(N-1)+:32] = devcfg_rsp_i.rdata;
    assign m_rvalid[N-1]         = devcfg_rsp_i.rvalid;
  end

  // ---- the virtio logic ----

  logic [Queues-1:0] queue_exists;
  logic [63:0]      drv_features;
  logic             drv_features_de;
  logic [7:0]       device_status;
  logic             device_status_de;
  fw_csr_reg_pkg::fw_csr_hw2reg_q_max_size_t    q_max_size;
  fw_csr_reg_pkg::fw_csr_hw2reg_q_state_t       q_state;
  fw_csr_reg_pkg::fw_csr_hw2reg_q_msix_vector_t q_msix_vector;
  fw_csr_reg_pkg::fw_csr_hw2reg_q_desc_t        q_desc;
  fw_csr_reg_pkg::fw_csr_hw2reg_q_driver_t      q_driver;
  fw_csr_reg_pkg::fw_csr_hw2reg_q_device_t      q_device;

  ep_virtio_core #(.Queues(Queues), .Vectors(Vectors)) u_core (
    .clk_i             (clk_i),
    .rst_ni            (rst_ni),
    .common_reg2hw_i   (common_reg2hw),
    .common_hw2reg_o   (common_hw2reg),
    .fw_reg2hw_i       (fw_reg2hw_o),
    .drv_features_o    (drv_features),
    .drv_features_de_o (drv_features_de),
    .device_status_o   (device_status),
    .device_status_de_o(device_status_de),
    .q_max_size_o      (q_max_size),
    .q_state_o         (q_state),
    .q_msix_vector_o   (q_msix_vector),
    .q_desc_o          (q_desc),
    .q_driver_o        (q_driver),
    .q_device_o        (q_device),
    .evt_push_o        (evt_push[0]),
    .evt_kind_o        (evt_kind[0+:8]),
    .evt_data_o        (evt_data[0+:32]),
    .evt_grant_i       (evt_grant[0]),
    .isr_queue_set_o   (isr_queue_set),
    .isr_config_set_o  (isr_config_set),
    .isr_clear_o       (isr_clear),
    .msix_trigger_o    (msix_cfg_trigger),
    .msix_vector_o     (msix_cfg_vector),
    .msix_clear_o      (msix_clear),
    .queue_exists_o    (queue_exists)
  );

  // The notify region: queue = offset / notify_off_multiplier (a multiplier of 0: the written
  // value names the queue); only a queue that exists is notified. A write of all four bytes
  // carries notification data above the queue index.
  logic [63:0] notify_off;
  logic [15:0] notify_queue;
  logic        notify_exists;
  assign notify_off    = addr - NotifyOffset;
  assign notify_queue  = NotifyOffMultiplier == 0 ? m_wdata[15:0] : 16'(notify_off / 64'(NotifyOffMultiplier));
  assign notify_exists = notify_queue < 16'(Queues) && queue_exists[notify_queue[$clog2(Queues)-1:0]];

  assign evt_push[1]      = loc_req && dec_we && notify && notify_exists;
  assign evt_kind[8+:8]   = fw_csr_reg_pkg::FW_EVENT_KIND_QUEUE_NOTIFY;
  assign evt_data[32+:32] = {m_wstrb == 4'hf ? m_wdata[31:16] : 16'h0, notify_queue};
  assign loc_ack          = loc_req && (!evt_push[1] || evt_grant[1]);

  always_comb begin
    fw_hw2reg = '0;  // ep_fw_port drives identity and event registers itself
    fw_hw2reg.drv_features.accepted.d = drv_features;
    fw_hw2reg.drv_features.accepted.de = drv_features_de;
    fw_hw2reg.device_status.status.d = device_status;
    fw_hw2reg.device_status.status.de = device_status_de;
    fw_hw2reg.q_max_size    = q_max_size;
    fw_hw2reg.q_state       = q_state;
    fw_hw2reg.q_msix_vector = q_msix_vector;
    fw_hw2reg.q_desc        = q_desc;
    fw_hw2reg.q_driver      = q_driver;
    fw_hw2reg.q_device      = q_device;
  end

endmodule

`default_nettype wire
